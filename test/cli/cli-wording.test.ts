import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';
import { warehouseSql } from '../helpers/temp-project.ts';
import { needService, SERVICES } from '../helpers/services.ts';

/** An endpoint refusing (400) any batch that holds a record whose id starts with "bad": the engine splits down to those rows. */
function startPickyReceiver() {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const items = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]') as { id?: string }[];
      const bad = items.some((item) => String(item.id).startsWith('bad'));
      res.writeHead(bad ? 400 : 200, { 'content-type': 'application/json' }).end(bad ? '{"error":"bad sku"}' : '{}');
    });
  });
  return {
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const receiver = startPickyReceiver();
let dir = '';
let url = '';
beforeAll(async () => {
  url = await receiver.listen();
  dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-wording-'));
  await warehouseSql(path.join(dir, 'warehouse.duckdb'), `CREATE TABLE prices (sku VARCHAR, price INTEGER);
    INSERT INTO prices VALUES ('a', 1), ('b', 2), ('c', 3), ('bad1', 4), ('bad2', 5), ('bad3', 6)`);
});
afterAll(async () => {
  await receiver.close();
  await rm(dir, { recursive: true, force: true });
});

function config(destination: string, sync: string): Promise<void> {
  return writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: .lastmile
sources:
  shop_dw: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  ${destination}
models:
  prices: { source: shop_dw, sql: "SELECT sku, price FROM prices", primaryKey: sku }
syncs:
  ${sync}
`);
}

describe('CLI wording a user reads', { timeout: 180_000 }, () => {
  it('runs show RUN --limit N shows N rejected rows (the option is the command\'s own, not the history\'s)', async () => {
    await config(`hook: { type: http, url: "${url}" }`, 'out: { model: prices, destination: hook, mode: upsert, match: { sku: id }, mapping: { price: price } }');
    const sync = await runCli(['sync', 'out', '--json'], dir);
    expect(sync.code, sync.stderr).toBe(2);
    const runId = String(sync.json?.runId);
    const one = await runCli(['runs', 'show', runId, '--limit', '1'], dir);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.match(/^ {2}bad\d/gm)).toHaveLength(1);
    expect(one.stdout).toContain('… 2 more');
    // The trace names the source the run read, not a generic "warehouse".
    expect(one.stdout).toMatch(/^\/\/ 1\. query shop_dw +records_fetched: 6$/m);
    const all = await runCli(['runs', 'show', runId, '-n', '5'], dir);
    expect(all.stdout.match(/^ {2}bad\d/gm)).toHaveLength(3);
  });

  it('an upsert plan says removed rows stay, and counts in the singular when there is one', async () => {
    await warehouseSql(path.join(dir, 'warehouse.duckdb'), "DELETE FROM prices WHERE sku = 'c'; UPDATE prices SET price = 10 WHERE sku = 'a'");
    const plan = await runCli(['plan', 'out'], dir);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/removed +1 {2}\(left the model; mode upsert does not delete them\)/);
    expect(plan.stdout).toContain('to sync    1 row in 1 request of up to ');
    expect(plan.stdout).toContain('sample of removed (kept in the destination):');
    expect(plan.stdout).not.toMatch(/\b1 (rows|requests)\b/);
  });
});

const pgUp = await needService('postgres');
describe.skipIf(!pgUp)('a plan into a database table', { timeout: 180_000 }, () => {
  it('talks of batches and transactions, not API requests and rate limits', async () => {
    await config(`db: { type: postgres, url: "${SERVICES.postgres.url}" }`, 'out_db: { model: prices, destination: db, mode: upsert, match: { sku: sku }, mapping: { price: price }, table: wording_prices }');
    const plan = await runCli(['plan', 'out_db'], dir);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/to sync {4}5 rows in 1 batch of up to [\d,]+, one transaction each/);
    expect(plan.stdout).not.toMatch(/request|rate/);
  });
});
