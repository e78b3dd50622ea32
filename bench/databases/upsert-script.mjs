// The baseline a small sync is measured against: what one would write by hand with `pg`.
// Reads the whole source table and upserts it in batches of 1,000. No state, no diff:
// every run rewrites every row. Usage: node upsert-script.mjs URL SOURCE_TABLE TARGET_TABLE
import pg from 'pg';
import Cursor from 'pg-cursor';

const [url, sourceTable, targetTable] = process.argv.slice(2);
const BATCH = 1000;
const source = new pg.Client(url);
const target = new pg.Client(url);
await Promise.all([source.connect(), target.connect()]);

const cursor = source.query(new Cursor(`SELECT id, sku, competitor, price, currency, updated_at FROM ${sourceTable}`));
let written = 0;
for (;;) {
  const rows = await cursor.read(BATCH);
  if (rows.length === 0) break;
  const values = [];
  const tuples = rows.map((row, r) => {
    values.push(row.id, row.sku, row.competitor, row.price, row.currency, row.updated_at);
    return `(${[1, 2, 3, 4, 5, 6].map((c) => `$${r * 6 + c}`).join(', ')})`;
  });
  await target.query(
    `INSERT INTO ${targetTable} (id, sku, competitor, price, currency, updated_at) VALUES ${tuples.join(', ')}
     ON CONFLICT (id) DO UPDATE SET sku = EXCLUDED.sku, competitor = EXCLUDED.competitor, price = EXCLUDED.price,
       currency = EXCLUDED.currency, updated_at = EXCLUDED.updated_at`,
    values,
  );
  written += rows.length;
}
await cursor.close();
await Promise.all([source.end(), target.end()]);
console.log(JSON.stringify({ written }));
