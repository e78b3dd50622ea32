import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/run-cli.ts';
import { warehouseSql } from '../helpers/temp-project.ts';
import { progressLine } from '../../src/cli/progress-line.ts';
import type { RunProgress } from '../../src/engine/run-recorder.ts';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/lastmile.js');
/** util-linux `script` runs a command in a pseudo-terminal: stderr is a TTY there, as in a user's shell. */
const SCRIPT = '/usr/bin/script';

/** An endpoint answering every batch after 40 ms, refusing (400) any batch with an id starting "bad": the engine splits to find it. */
function slowReceiver() {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => setTimeout(() => {
      const items = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]') as { id?: string }[];
      const bad = items.some((item) => String(item.id).startsWith('bad'));
      res.writeHead(bad ? 400 : 200, { 'content-type': 'application/json' }).end(bad ? '{"error":"bad sku"}' : '{}');
    }, 40));
  });
  return {
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const receiver = slowReceiver();
let dir = '';
beforeAll(async () => {
  const url = await receiver.listen();
  dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-progress-'));
  await warehouseSql(path.join(dir, 'warehouse.duckdb'), `CREATE TABLE prices AS
    SELECT CASE WHEN i = 777 THEN 'bad' ELSE 'sku' END || i AS sku, i AS price FROM range(2000) t(i)`);
  await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: .lastmile
sources:
  shop_dw: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  engine: { type: http, url: ${url}/bulk, batch: { size: 50 }, rateLimit: { requestsPerSecond: 1000, concurrency: 1 } }
models:
  prices: { source: shop_dw, sql: "SELECT sku, price FROM prices", primaryKey: sku }
syncs:
  prices_out: { model: prices, destination: engine, mode: upsert, match: { sku: id }, mapping: { price: price } }
`);
});
afterAll(async () => {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

const base: RunProgress = { runId: 'r', phase: 'push', fetched: 2000, toSync: 2000, delivered: 0, rejected: 0, deferred: 0, skipped: 0, apiCalls: 0, retries: 0, splitCalls: 0, throttled: 0, rowsPerSecond: 0 };

describe('`lastmile sync` and `runs show` as a user meets them: live progress, a folded trace, pause', () => {
  it('reads as percent, rows/s, API calls, retries, splits and time left; never "to sync 0" before the diff is known', () => {
    expect(progressLine({ ...base, phase: 'read', toSync: 0, fetched: 1200 })).toBe('reading   fetched 1,200');
    expect(progressLine({ ...base, phase: 'diff', toSync: 0 })).toBe('diffing   fetched 2,000 · comparing with the last delivered state');
    expect(progressLine({ ...base, delivered: 850, rejected: 1, apiCalls: 18, retries: 1, splitCalls: 12, rowsPerSecond: 425 }))
      .toBe('push       42% · 851 of 2,000 · 425 rows/s · 18 API calls · 1 rejected · 1 retry · 12 split requests · about 2.7 s left');
  });

  it.skipIf(!existsSync(SCRIPT))('redraws one line on a terminal (pseudo-terminal via script), then prints the summary', async () => {
    const { stdout } = await promisify(execFile)(SCRIPT, ['-qfc', `${process.execPath} ${bin} sync prices_out`, '/dev/null'], { cwd: dir, timeout: 120_000 });
    const frames = stdout.split('\r\x1b[2K').map((frame) => frame.split('\n')[0]!);
    expect(frames.some((f) => f.startsWith('diffing'))).toBe(true);
    const pushes = frames.filter((f) => f.startsWith('push'));
    expect(pushes.length).toBeGreaterThan(3);
    expect(pushes.some((f) => /^push\s+\d+% · [\d,]+ of 2,000 · [\d,]+ rows\/s · [\d,]+ API calls? · .*about .* left$/.test(f))).toBe(true);
    expect(pushes.some((f) => /split requests?/.test(f))).toBe(true);
    expect(frames.at(-1)).toMatch(/^finalize\s+100% · 2,000 of 2,000 · /);
    expect(stdout).not.toContain('to sync 0');
    expect(stdout).toMatch(/to sync 2,000 = delivered 1,999 \+ rejected 1 \+ deferred 0 \+ skipped 0/);
  }, 150_000);

  it('writes no progress when stderr is not a terminal', async () => {
    const result = await runCli(['sync', 'prices_out', '--full-resync'], dir);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).not.toContain('\r');
    expect(result.stdout).toMatch(/to sync 2,000 = delivered 1,999 \+ rejected 1/);
  }, 150_000);

  it('runs show folds the batch lines (first, last, every one not a plain 200); --all-batches lists them all', async () => {
    const runs = await runCli(['runs', 'prices_out', '--json'], dir);
    const runId = (JSON.parse(runs.stdout) as { runId: string }[])[0]!.runId;
    const batchLines = (stdout: string) => stdout.split('\n').filter((line) => /^\/\/ .*batch [\d.]+: /.test(line)).map((line) => line.replace(/^\/\/ (3\. push)?\s+/, ''));
    const all = batchLines((await runCli(['runs', 'show', runId, '--all-batches'], dir)).stdout);
    const folded = await runCli(['runs', 'show', runId], dir);
    const shown = batchLines(folded.stdout);
    expect(all.length).toBeGreaterThan(40);
    expect(shown[0]).toBe(all[0]);
    expect(shown.at(-1)).toBe(all.at(-1));
    const notPlain = all.filter((line) => !/^batch [\d.]+: 200 OK \[\d+\]$/.test(line));
    expect(notPlain.length).toBeGreaterThan(3); // the 400 and the splits that isolated the bad row
    expect(shown.filter((line) => !/^batch [\d.]+: 200 OK \[\d+\]$/.test(line))).toEqual(notPlain);
    expect(shown.length).toBeLessThan(all.length / 2);
    expect(folded.stdout).toMatch(/^\/\/\s+… \d+ more batches: 200 OK \(runs show --all-batches lists them\)$/m);
  }, 60_000);

  it('pause: `lastmile sync` of a paused sync says so and how to resume it; resume lets it run', async () => {
    const paused = await runCli(['pause', 'prices_out'], dir);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(/^prices_out is paused \(since \d{4}-.*\): no scheduled or API run starts until `lastmile resume prices_out`$/m);
    const refused = await runCli(['sync', 'prices_out'], dir);
    expect(refused.code).toBe(64);
    expect(refused.stderr).toMatch(/^lastmile: sync "prices_out" is paused \(since .*\); resume it with: lastmile resume prices_out$/m);
    expect((await runCli(['pause', 'nope'], dir)).stderr).toMatch(/no sync named "nope"/);
    expect((await runCli(['resume', 'prices_out'], dir)).stdout).toBe('prices_out is resumed\n');
    const run = await runCli(['sync', 'prices_out'], dir);
    expect(run.code, run.stderr).toBe(0); // the bad row is parked until it changes: nothing to send
    expect(run.stdout).toMatch(/to sync 0 = delivered 0/);
  }, 60_000);
});
