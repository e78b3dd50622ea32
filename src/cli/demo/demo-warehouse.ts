import { DuckDBInstance } from '@duckdb/node-api';

/**
 * The demo warehouse: scraped competitor prices, one row per SKU, generated in DuckDB so a
 * new user has realistic data without a download.
 */
export async function writeDemoWarehouse(file: string, rows = 50_000): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const db = await instance.connect();
  try {
    await db.run(`
      CREATE OR REPLACE TABLE competitor_prices AS
      SELECT
        'SKU-' || lpad(CAST(i AS VARCHAR), 6, '0') AS sku,
        (['acme', 'globex', 'initech', 'umbrella', 'hooli'])[1 + i % 5] AS competitor,
        CAST(round(5 + (hash(i) % 99500) / 100.0, 2) AS DECIMAL(10, 2)) AS price,
        (['EUR', 'USD', 'GBP'])[1 + i % 3] AS currency,
        TIMESTAMPTZ '2026-11-01 00:00:00+00' + to_minutes(CAST(i % 10000 AS BIGINT)) AS updated_at
      FROM range(${rows}) AS t(i)`);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** Changes the prices of every n-th SKU and stamps them as updated now: what a new scrape does. */
export async function simulatePriceChanges(file: string, everyNth = 50): Promise<number> {
  const instance = await DuckDBInstance.create(file);
  const db = await instance.connect();
  try {
    const result = await db.run(`
      UPDATE competitor_prices
      SET price = CAST(price * 0.93 AS DECIMAL(10, 2)), updated_at = now()
      WHERE CAST(substr(sku, 5) AS INTEGER) % ${Math.max(1, Math.floor(everyNth))} = 0`);
    return Number(result.rowsChanged);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}
