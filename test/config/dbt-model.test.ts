import path from 'node:path';
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load-project.ts';
import { ConfigError } from '../../src/errors.ts';
import { dbtKeyWarnings } from '../../src/config/dbt/dbt-key-warnings.ts';
import { createSource } from '../../src/engine/resolve-sync.ts';
import { openWorkspace } from '../../src/diff/workspace/workspace.ts';
import { readModel } from '../../src/diff/workspace/read-model.ts';
import { runCli } from '../helpers/run-cli.ts';
import { writeProject } from './config-files.ts';

const MANIFEST = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/dbt/manifest.json');

/** A project folder with dbt's manifest at target/manifest.json and `models` as the models block. */
async function dbtProject(models: string, withManifest = true) {
  const dir = await writeProject({ 'lastmile.yml': `sources:
  warehouse: { type: duckdb, path: ./dev.duckdb }
destinations:
  api: { type: http, url: http://127.0.0.1:9/in }
models:
${models}
` });
  if (withManifest) {
    await mkdir(path.join(dir, 'target'));
    await copyFile(MANIFEST, path.join(dir, 'target/manifest.json'));
  }
  return dir;
}

async function refusal(dir: string): Promise<ConfigError> {
  const error = await loadProject(path.join(dir, 'lastmile.yml'), {}).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('dbt models', () => {
  it('resolves a model by name: its relation (alias), columns, descriptions, and the key its unique test covers', async () => {
    const dir = await dbtProject(`  orders:
    source: warehouse
    dbt: { manifest: target/manifest.json, name: orders }`);
    const { models } = await loadProject(path.join(dir, 'lastmile.yml'), {});
    const model = models.orders!;
    expect(model.table).toBe('main.fct_orders');
    expect(model.primaryKey).toEqual(['order_id']);
    expect(model.dbt).toMatchObject({
      uniqueId: 'model.shop.orders',
      relationName: '"dev"."main"."fct_orders"',
      relation: { database: 'dev', schema: 'main', identifier: 'fct_orders' },
      description: 'One row per order, with its amount paid.',
      primaryKeyFromDbt: true,
      uniqueKeys: [['order_id']],
    });
    expect(model.dbt!.columns).toEqual([
      { name: 'order_id', description: "The order's id in the shop", dataType: 'integer' },
      { name: 'customer_email', description: 'Who ordered' },
      { name: 'amount', description: 'Paid, in EUR' },
    ]);
    expect(dbtKeyWarnings(model)).toEqual([]);
  });

  it('finds a unique test of a dbt before 1.5 (no attached_node) by its depends_on, and accepts package.name and unique_id', async () => {
    const dir = await dbtProject(`  customers:
    source: warehouse
    dbt: { name: shop.customers }
  orders_by_id:
    source: warehouse
    dbt: { name: model.shop.orders }`);
    const { models } = await loadProject(path.join(dir, 'lastmile.yml'), {});
    expect(models.customers!.primaryKey).toEqual(['email']);
    expect(models.customers!.table).toBe('main.customers');
    expect(models.orders_by_id!.table).toBe('main.fct_orders');
  });

  it('reads the dbt model from a DuckDB warehouse by its relation', async () => {
    const dir = await dbtProject(`  orders:
    source: warehouse
    dbt: { name: orders }`);
    const instance = await DuckDBInstance.create(path.join(dir, 'dev.duckdb'));
    const db = await instance.connect();
    await db.run(`CREATE TABLE fct_orders AS SELECT i AS order_id, 'c' || i || '@shop.test' AS customer_email, i * 10.5 AS amount FROM range(1, 4) t(i)`);
    db.closeSync();
    instance.closeSync();
    const project = await loadProject(path.join(dir, 'lastmile.yml'), {});
    const source = createSource(project, project.sources.warehouse!);
    const workspace = await openWorkspace();
    try {
      const signal = new AbortController().signal;
      const relation = await readModel(workspace, source, project.models.orders!, null, signal);
      const rows = await workspace.connection.runAndReadAll(`SELECT order_id, customer_email FROM (${relation.sql}) ORDER BY 1`);
      expect(rows.getRowObjectsJson()).toEqual([
        { order_id: '1', customer_email: 'c1@shop.test' }, { order_id: '2', customer_email: 'c2@shop.test' }, { order_id: '3', customer_email: 'c3@shop.test' },
      ]);
    } finally {
      await workspace.close();
      await source.close();
    }
  });

  it('names close model names when the name is unknown', async () => {
    const dir = await dbtProject(`  orders:
    source: warehouse
    dbt: { name: order }`);
    const error = await refusal(dir);
    expect(error.message).toMatch(/dbt model "order" is not in target\/manifest.json: did you mean "orders", "stg_orders", "order_lines"\?/);
    expect(error.message).toMatch(/models\.orders\.dbt\.name/);
  });

  it('says how to get a manifest when it is missing', async () => {
    const dir = await dbtProject(`  orders:
    source: warehouse
    dbt: { manifest: target/manifest.json, name: orders }`, false);
    const error = await refusal(dir);
    expect(error.message).toMatch(/dbt manifest target\/manifest.json does not exist .*run `dbt compile`/);
    expect(error.message).toMatch(/models\.orders\.dbt\.manifest/);
  });

  it('refuses a dbt model with neither a unique test nor a primaryKey, and warns in check when only primaryKey says it', async () => {
    const refused = await refusal(await dbtProject(`  lines:
    source: warehouse
    dbt: { name: order_lines }`));
    expect(refused.message).toMatch(/dbt model "order_lines" has no unique test to take the primary key from: set primaryKey/);

    const dir = await dbtProject(`  lines:
    source: warehouse
    dbt: { name: order_lines }
    primaryKey: line_id
  orders:
    source: warehouse
    dbt: { name: orders }
    primaryKey: customer_email`);
    const { models } = await loadProject(path.join(dir, 'lastmile.yml'), {});
    expect(dbtKeyWarnings(models.lines!)).toEqual([expect.stringMatching(/dbt model order_lines has no unique test/)]);
    expect(dbtKeyWarnings(models.orders!)).toEqual([expect.stringMatching(/primaryKey \(customer_email\) is not what dbt tests unique on orders \(order_id\)/)]);

    const check = await runCli(['check', '--config', path.join(dir, 'lastmile.yml')], dir);
    expect(check.stdout).toMatch(/warning model lines: dbt model order_lines has no unique test/);
    expect(check.stdout).toContain('note model orders: dbt model.shop.orders reads main.fct_orders (dbt: "dev"."main"."fct_orders"); primaryKey customer_email; 3 documented columns (order_id, customer_email, amount)');
  }, 60_000);

  it('wants exactly one of sql, table or dbt', async () => {
    const error = await refusal(await dbtProject(`  orders:
    source: warehouse
    table: fct_orders
    dbt: { name: orders }`));
    expect(error.message).toMatch(/set exactly one of sql, table or dbt/);
  });
});

