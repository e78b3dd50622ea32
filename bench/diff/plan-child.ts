/**
 * Runs in its own process so its peak RSS is its own. Modes:
 *   seed <config>      state := the current model, as if it had all been delivered
 *   plan <config>      lastmile's planSync
 *   baseline <dir>     the same diff in plain DuckDB SQL (warehouse table vs a state table)
 * Prints one JSON line: { ms, maxRssMB, counts }.
 */
import path from 'node:path';
import { loadProject } from '../../src/config/load-project.ts';
import { openStateStore } from '../../src/state/open-state-store.ts';
import { planSync } from '../../src/engine/plan-sync.ts';
import os from 'node:os';
import { rmSync } from 'node:fs';
import { openWorkspace } from '../../src/diff/workspace/workspace.ts';
import { createMapper } from '../../src/mapping/mapper.ts';
import { fingerprintSql, keySql, localFingerprintSql, type FingerprintPlan } from '../../src/diff/workspace/fingerprint-sql.ts';
import { toColumn } from '../../src/sources/duckdb/duckdb-values.ts';
import { createSource, resolveSync } from '../../src/engine/resolve-sync.ts';
import type { DuckdbNativeSource } from '../../src/sources/source.ts';
import { SYNC, MAPPED_COLUMNS, withDb } from './bench-project.ts';

const [mode, target] = process.argv.slice(2);
const started = performance.now();
let counts: unknown;

if (mode === 'seed' || mode === 'plan') {
  const project = await loadProject(target);
  const store = await openStateStore(project.state);
  if (mode === 'plan') {
    const plan = await planSync({ project, store }, SYNC);
    counts = { added: plan.added, changed: plan.changed, removed: plan.removed, unchanged: plan.unchanged };
  } else {
    const resolved = resolveSync(project, SYNC);
    const workspace = await openWorkspace();
    const source = createSource(project, resolved.sourceConfig) as DuckdbNativeSource;
    await source.attach(workspace.connection, new AbortController().signal);
    const mapper = createMapper(resolved.sync, undefined, ['sku', 'competitor', 'price', 'currency', 'updated_at']);
    // The state a run would leave: recipe v1 fingerprints and the workspace's local ones.
    const described = await workspace.connection.run('SELECT * FROM competitor_prices LIMIT 0');
    const columns = described.columnNames().map((name, i) => toColumn(name, described.columnType(i)));
    const typed = (names: string[]) => names.map((name) => columns.find((c) => c.name === name)!);
    const plan: FingerprintPlan = { signature: mapper.signature, columns: typed(mapper.columns), primaryKey: typed(['sku']) };
    const seed = path.join(os.tmpdir(), `lastmile-seed-${process.pid}.parquet`);
    await workspace.connection.run(`COPY (
      SELECT ${keySql(plan)} AS key, ${fingerprintSql(plan)} AS fp, 'delivered' AS status,
             NULL::VARCHAR AS dest_id, NULL::VARCHAR AS match, ${localFingerprintSql(plan)} AS local_fp FROM competitor_prices) TO '${seed}' (FORMAT parquet)`);
    await store.replaceRowState(SYNC, { parquet: seed });
    rmSync(seed, { force: true });
    // The baseline's copy of the same state, as a plain DuckDB table.
    await workspace.close();
    await source.close();
  }
  await store.close();
} else if (mode === 'baseline') {
  counts = await withDb(path.join(target, 'warehouse.duckdb'), async (db) => {
    const fp = `hash(${MAPPED_COLUMNS.map((c) => `"${c}"`).join(', ')})`;
    const result = await db.runAndReadAll(`
      SELECT count(*) FILTER (WHERE p.key IS NULL) AS added,
             count(*) FILTER (WHERE c.key IS NOT NULL AND p.key IS NOT NULL AND c.fp <> p.fp) AS changed,
             count(*) FILTER (WHERE c.key IS NULL) AS removed,
             count(*) FILTER (WHERE c.fp = p.fp) AS unchanged
      FROM (SELECT CAST(sku AS VARCHAR) AS key, ${fp} AS fp FROM competitor_prices) c
      FULL OUTER JOIN baseline_state p ON c.key = p.key`);
    return Object.fromEntries(Object.entries(result.getRowObjects()[0]).map(([k, v]) => [k, Number(v)]));
  });
} else if (mode === 'baseline-seed') {
  await withDb(path.join(target, 'warehouse.duckdb'), (db) => db.run(`
    CREATE OR REPLACE TABLE baseline_state AS
    SELECT CAST(sku AS VARCHAR) AS key, hash(${MAPPED_COLUMNS.map((c) => `"${c}"`).join(', ')}) AS fp FROM competitor_prices`));
}

console.log(JSON.stringify({ ms: Math.round(performance.now() - started), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), counts }));
