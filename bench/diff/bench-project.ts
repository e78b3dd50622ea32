import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';

export const SYNC = 'prices_to_engine';
/** Columns the mapping reads: the same ones the plain-SQL baseline hashes. */
export const MAPPED_COLUMNS = ['sku', 'price', 'currency', 'competitor'];

export async function writeBenchProject(dir: string): Promise<string> {
  const config = path.join(dir, 'lastmile.yml');
  await writeFile(config, `version: 1
state: .lastmile
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  pricing_engine: { type: http, url: "http://127.0.0.1:9/v2/bulk-update", batch: { size: 500 }, rateLimit: { requestsPerSecond: 10 } }
models:
  competitor_prices:
    source: warehouse
    table: competitor_prices
    primaryKey: sku
syncs:
  ${SYNC}:
    model: competitor_prices
    destination: pricing_engine
    mode: upsert
    match: { sku: id }
    mapping: { price: amount, currency: currency, competitor: competitor }
`);
  return config;
}

/** N rows of competitor prices; then `mutate` changes 1 %, removes 0.5 % and adds 0.5 %. */
export async function writeWarehouse(file: string, rows: number): Promise<void> {
  await withDb(file, (db) => db.run(`
    CREATE OR REPLACE TABLE competitor_prices AS
    SELECT i AS sku, (['acme','globex','initech','umbrella','hooli'])[1 + i % 5] AS competitor,
           CAST((i % 100000) / 100.0 AS DECIMAL(10,2)) AS price, (['EUR','USD','GBP'])[1 + i % 3] AS currency,
           TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_seconds(i) AS updated_at
    FROM range(${rows}) t(i)`));
}

export async function mutateWarehouse(file: string, rows: number): Promise<void> {
  await withDb(file, async (db) => {
    await db.run(`UPDATE competitor_prices SET price = price + 1 WHERE sku % 100 = 7`);
    await db.run(`DELETE FROM competitor_prices WHERE sku % 200 = 3`);
    await db.run(`INSERT INTO competitor_prices SELECT ${rows} + i, 'acme', 9.99, 'EUR', now() FROM range(${Math.floor(rows / 200)}) t(i)`);
  });
}

export async function withDb<T>(file: string, fn: (db: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(file);
  const db = await instance.connect();
  try {
    return await fn(db);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}
