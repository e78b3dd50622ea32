#!/usr/bin/env bash
# The demo, end to end on the embedded default (DuckDB warehouse, state on local disk):
# a first full sync, a change in the warehouse, a sync of only the change, the run history,
# then the web UI on http://127.0.0.1:8080 (skipped with --no-serve or under CI).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
lastmile() { node "$root/bin/lastmile.js" "$@"; }
step() { printf '\n\033[1m$ lastmile %s\033[0m\n' "$*"; lastmile "$@"; }

rm -rf demo
lastmile init demo
cd demo
lastmile receiver --port 8787 > receiver.log 2>&1 &
receiver=$!
trap 'kill $receiver 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/8787) 2>/dev/null && break; sleep 0.2; done

step check
step plan prices_to_engine
step sync prices_to_engine
printf '\n\033[1m$ # a new scrape changes some prices in the warehouse\033[0m\n'
node --import tsx "$root/scripts/demo-change-prices.ts" warehouse.duckdb
step plan prices_to_engine
step sync prices_to_engine
step runs
last=$(lastmile runs --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].runId))')
step runs show "$last"

if [[ "${1:-}" != "--no-serve" && "${CI:-}" != "true" ]]; then
  printf '\n\033[1m$ lastmile serve --port 8080\033[0m   open http://127.0.0.1:8080 (token: demo-admin-token); Ctrl-C to stop\n'
  LASTMILE_API_TOKEN=demo-admin-token lastmile serve --port 8080
fi
