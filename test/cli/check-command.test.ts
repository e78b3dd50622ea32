import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';
import { warehouseSql } from '../helpers/temp-project.ts';
import { startCountingReceiver } from '../helpers/counting-receiver.ts';
import { needService, SERVICES } from '../helpers/services.ts';

/** A project folder with a small DuckDB warehouse: `prices (sku, price, currency)`. */
async function project(yaml: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-check-'));
  await warehouseSql(path.join(dir, 'warehouse.duckdb'), `CREATE TABLE prices (sku VARCHAR, price DECIMAL(10,2), currency VARCHAR);
    INSERT INTO prices VALUES ('a', 1.50, 'EUR')`);
  await writeFile(path.join(dir, 'lastmile.yml'), yaml);
  dirs.push(dir);
  return dir;
}

const dirs: string[] = [];
const receiver = startCountingReceiver();
let url = '';
beforeAll(async () => { url = await receiver.listen(); });
afterAll(async () => {
  await receiver.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const HEAD = (destinationUrl: string) => `version: 1
state: .lastmile
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  hook: { type: http, url: "${destinationUrl}" }
`;

describe('lastmile check', { timeout: 120_000 }, () => {
  it('runs each model with no rows and lists its columns when all is well', async () => {
    const dir = await project(`${HEAD(url)}models:
  prices: { source: warehouse, sql: "SELECT sku, price, currency FROM prices", primaryKey: sku }
syncs:
  prices_out: { model: prices, destination: hook, mode: upsert, match: { sku: id }, mapping: { price: amount } }
`);
    const result = await runCli(['check'], dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ok   config');
    expect(result.stdout).toContain('1 sync, 1 model, 1 source, 1 destination');
    expect(result.stdout).toContain('ok   model prices: sku varchar, price decimal, currency varchar');
    expect(result.stdout).toContain('ok   sync prices_out: upsert into hook');
    expect(receiver.records).toBe(0);
  });

  it('shows every error of every stage at once, on stderr, without the SQL it wraps models in', async () => {
    const dir = await project(`${HEAD('http://127.0.0.1:9/hook')}models:
  prices: { source: warehouse, sql: "SELECT sku, price, currency FROM prices", primaryKey: id }
  broken: { source: warehouse, sql: "SELECT skux FROM prices", primaryKey: skux }
syncs:
  prices_out:
    model: prices
    destination: hook
    mode: upsert
    match: { SKU: id }
    mapping: { cost: amount, label: { template: "{{ name }}" } }
  broken_out: { model: broken, destination: hook, mode: insert }
`);
    const result = await runCli(['check'], dir);
    expect(result.code).toBe(64);
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe('lastmile check: 6 errors; nothing was sent');
    expect(result.stderr).toContain('lastmile: destination "hook": ');
    expect(result.stderr).toContain('lastmile: lastmile.yml:8 models.prices.primaryKey: model "prices" has no column "id": its columns are sku, price, currency');
    expect(result.stderr).toContain('lastmile: lastmile.yml:15 syncs.prices_out.match.SKU: model "prices" has no column "SKU": did you mean "sku"?');
    expect(result.stderr).toContain('syncs.prices_out.mapping.cost: model "prices" has no column "cost"');
    expect(result.stderr).toContain('syncs.prices_out.mapping.label: the template uses {{ name }}, but model "prices" has no column "name"');
    expect(result.stderr).toMatch(/lastmile: lastmile\.yml:9 models\.broken\.sql: source "warehouse": the query failed: Binder Error: Referenced column "skux" not found/);
    expect(result.stderr).not.toMatch(/lastmile_model|LINE 1|SELECT \* FROM/);
    expect(result.stdout).toContain('ok   source warehouse (duckdb)');
  });

  it('--json prints the errors as JSON, each with its stage and location', async () => {
    const dir = await project(`${HEAD(url)}models:
  prices: { source: warehouse, sql: "SELECT sku FROM prices", primaryKey: sku }
syncs:
  prices_out: { model: prices, destination: hook, mode: upsert, match: { sku: id }, mapping: { price: amount } }
`);
    const result = await runCli(['check', '--json'], dir);
    expect(result.code).toBe(64);
    expect(result.stderr).toBe('');
    expect(result.json).toMatchObject({
      ok: false,
      errors: [{ stage: 'model', file: 'lastmile.yml', line: 10, field: 'syncs.prices_out.mapping.price', message: 'model "prices" has no column "price": its columns are sku' }],
    });
  });

  it('an empty config is an error, not "valid (0 syncs)"', async () => {
    const dir = await project('version: 1\n');
    const result = await runCli(['check'], dir);
    expect(result.code).toBe(64);
    expect(result.stderr).toContain('lastmile: lastmile.yml: the project defines no syncs');
    expect(result.stdout).toBe('');
  });

  it('config mistakes are listed one per line, each with its own location, as JSON too', async () => {
    const dir = await project(`${HEAD(url)}models:
  prices: { source: warehouse, sql: "SELECT sku FROM prices", primaryKey: sku }
syncs:
  a: { model: nope, destination: hook, mode: insert }
  b: { model: prices, destination: gone, mode: insert }
`);
    const text = await runCli(['check'], dir);
    expect(text.code).toBe(64);
    expect(text.stderr).toMatch(/^lastmile: lastmile\.yml:10 syncs\.a\.model: .*nope/m);
    expect(text.stderr).toMatch(/^lastmile: lastmile\.yml:11 syncs\.b\.destination: .*gone/m);
    const json = await runCli(['check', '--json'], dir);
    expect(json.json?.errors).toMatchObject([
      { stage: 'config', line: 10, field: 'syncs.a.model' },
      { stage: 'config', line: 11, field: 'syncs.b.destination' },
    ]);
  });
});

const mysqlUp = await needService('mariadb');
describe.skipIf(!mysqlUp)('lastmile check on MySQL', { timeout: 120_000 }, () => {
  it("a syntax error names the model's own SQL, not the query wrapped around it", async () => {
    const dir = await project(`version: 1
state: .lastmile
sources:
  shop: { type: mysql, url: "${SERVICES.mariadb.url}" }
destinations:
  hook: { type: http, url: "${url}" }
models:
  m: { source: shop, sql: "SELECT 1 AS id FORM dual", primaryKey: id }
syncs:
  s: { model: m, destination: hook, mode: insert }
`);
    const result = await runCli(['check'], dir);
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/lastmile: lastmile\.yml:8 models\.m\.sql: source "shop": the query failed: .*syntax.*near 'FORM dual'/);
    expect(result.stderr).not.toContain('lastmile_model');
  });
});
