import os from 'node:os';
import path from 'node:path';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { filesSourceType } from '../../src/sources/files/files-type.ts';
import { isDuckdbNative, type DuckdbNativeSource } from '../../src/sources/source.ts';
import { expectBoundedChunks, expectCanonicalRow, expectStagedRoundTrip, readAll } from './source-conformance.ts';

const signal = new AbortController().signal;
let root: string;
let source: DuckdbNativeSource;

function filesSource(name: string, folder: string): DuckdbNativeSource {
  const created = filesSourceType.create({ name, type: 'files', path: folder }, root);
  if (!isDuckdbNative(created)) throw new Error('a files source must be DuckDB-native');
  return created;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'lm-files-src-'));
  const folder = path.join(root, 'exports');
  await mkdir(path.join(folder, 'data'), { recursive: true });
  await writeFile(path.join(folder, 'prices.csv'), 'sku,price,on_sale,updated\nA-1,19.99,true,2024-03-01\nB-2,5,false,2024-03-02\n');
  const instance = await DuckDBInstance.create(':memory:');
  const writer = await instance.connect();
  const at = (file: string) => `'${path.join(folder, file).replaceAll("'", "''")}'`;
  await writer.run(`COPY (SELECT 1 AS id, 9007199254740993::BIGINT AS big, 12345678901234.5678::DECIMAL(18,4) AS dec,
    TIMESTAMPTZ '2024-03-01 12:00:00.123456+02' AS tstz, TIMESTAMP '2024-03-01 12:00:00.000001' AS ts,
    DATE '2024-03-01' AS d, true AS flag, '{"a":[1,2],"b":"x"}'::JSON AS doc, NULL::VARCHAR AS nothing,
    'héllo "world"' AS label) TO ${at('canonical.parquet')} (FORMAT parquet)`);
  await writer.run(`COPY (SELECT i AS n FROM range(0, 3000) r(i)) TO ${at('data/part-1.parquet')} (FORMAT parquet)`);
  await writer.run(`COPY (SELECT i AS n FROM range(3000, 5000) r(i)) TO ${at('data/part-2.parquet')} (FORMAT parquet)`);
  writer.closeSync();
  instance.closeSync();
  source = filesSource('exports', 'exports');
});

afterAll(async () => {
  await source?.close();
  await rm(root, { recursive: true, force: true });
});

describe('files source', () => {
  it('reads a Parquet file with every value keeping its meaning', async () => {
    await expectCanonicalRow(source, source.tableQuery('canonical.parquet'));
    await expectStagedRoundTrip(source, source.tableQuery('canonical.parquet'));
  });

  it('reads a CSV file named as a table, with DuckDB detecting the types', async () => {
    const { rows, columns } = await readAll(source, source.tableQuery('prices.csv'));
    expect(rows).toEqual([
      { sku: 'A-1', price: 19.99, on_sale: true, updated: '2024-03-01' },
      { sku: 'B-2', price: 5, on_sale: false, updated: '2024-03-02' },
    ]);
    expect(columns.map((c) => c.type)).toEqual(['varchar', 'double', 'boolean', 'date']);
  });

  it('reads a glob of Parquet files in bounded chunks', async () => {
    await expectBoundedChunks(source, `${source.tableQuery('data/*.parquet')} ORDER BY n`, 5000, 1024);
  });

  it('SQL models use paths relative to the folder, in the workspace after attach and in read()', async () => {
    const sql = `SELECT sku, price FROM read_csv('prices.csv', columns = {'sku': 'VARCHAR', 'price': 'DECIMAL(10,2)', 'on_sale': 'BOOLEAN', 'updated': 'DATE'}) WHERE price > $1`;
    expect((await readAll(source, sql, 10, ['10'])).rows).toEqual([{ sku: 'A-1', price: '19.99' }]);
    const workspace = await (await DuckDBInstance.create(':memory:')).connect();
    await source.attach(workspace, signal);
    const result = await workspace.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('data/*.parquet')`);
    expect(result.getRowObjects()).toEqual([{ n: 5000n }]);
    const table = await workspace.runAndReadAll(source.tableQuery('prices.csv'));
    expect(table.getRows().length).toBe(2);
    workspace.closeSync();
  });

  it('a missing folder is an error naming the source and folder', async () => {
    const missing = filesSource('dropbox', 'nowhere');
    await expect(missing.check(signal)).rejects.toThrow(`source "dropbox": folder ${path.join(root, 'nowhere')} does not exist`);
    await expect(readAll(missing, 'SELECT 1')).rejects.toThrow(/source "dropbox"/);
  });

  it('a missing file or an unknown extension is an error naming the source', async () => {
    await expect(readAll(source, source.tableQuery('absent.csv'))).rejects.toThrow(/source "exports": the query failed: .*absent\.csv/);
    expect(() => source.tableQuery('notes.docx')).toThrow(/source "exports": cannot tell how to read "notes.docx"/);
  });
});
