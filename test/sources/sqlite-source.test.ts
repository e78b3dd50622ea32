import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteSourceType } from '../../src/sources/sqlite/sqlite-type.ts';
import type { Source } from '../../src/sources/source.ts';
import { expectBoundedChunks, expectCanonicalRow, expectStagedRoundTrip, readAll } from './source-conformance.ts';

let dir: string;
let source: Source;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lm-sqlite-src-'));
  const db = new Database(path.join(dir, 'app.sqlite'));
  db.exec(`CREATE TABLE canonical (id INTEGER, big BIGINT, dec TEXT_DECIMAL(18,4), tstz TIMESTAMPTZ, ts DATETIME, d DATE,
    flag BOOLEAN, doc JSON, "nothing" TEXT, label TEXT)`);
  // TEXT affinity keeps 12345678901234.5678 as written; a DECIMAL column would store a REAL.
  db.prepare(`INSERT INTO canonical VALUES (1, ?, '12345678901234.5678', '2024-03-01 12:00:00.123456+02:00',
    '2024-03-01 12:00:00.000001', '2024-03-01', 1, '{"a":[1,2],"b":"x"}', NULL, 'héllo "world"')`).run(9007199254740993n);
  db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, updated_at DATETIME, note TEXT)`);
  const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?)');
  for (let i = 1; i <= 5; i++) insert.run(i, `2024-03-01 10:00:00.00000${i}`, `n${i}`);
  db.exec(`CREATE TABLE series (i INTEGER, h TEXT)`);
  db.exec(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 5000) INSERT INTO series SELECT i, hex(randomblob(8)) FROM s`);
  db.close();
  source = sqliteSourceType.create({ name: 'local_app', type: 'sqlite', path: 'app.sqlite' }, dir);
});

afterAll(async () => {
  await source?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('SQLite source', () => {
  it('keeps every value its meaning, typed by the declared column types', async () => {
    const { columns } = await expectCanonicalRow(source, 'SELECT * FROM canonical');
    expect(columns.find((c) => c.name === 'dec')).toMatchObject({ type: 'decimal', precision: 18, scale: 4 });
  });

  it('stages into DuckDB without changing a value', async () => {
    await expectStagedRoundTrip(source, 'SELECT * FROM canonical');
  });

  it('types expression columns by their values, and keeps blobs and big integers exact', async () => {
    const { rows, columns } = await readAll(source, `SELECT 9223372036854775807 AS top, 1.5 AS dbl, x'00ff' AS bin, 'a' AS txt`);
    expect(rows).toEqual([{ top: 9223372036854775807n, dbl: 1.5, bin: new Uint8Array([0, 255]), txt: 'a' }]);
    expect(columns.map((c) => c.type)).toEqual(['bigint', 'double', 'blob', 'varchar']);
  });

  it('a plain DECIMAL column holds what SQLite stored: a REAL of 15 digits', async () => {
    const db = new Database(path.join(dir, 'app.sqlite'));
    db.exec(`CREATE TABLE IF NOT EXISTS prices (price DECIMAL(18,4)); INSERT INTO prices VALUES ('1.25'), ('12345678901234.5678')`);
    db.close();
    const { rows, columns } = await readAll(source, 'SELECT price FROM prices');
    expect(rows).toEqual([{ price: '1.25' }, { price: '12345678901234.568' }]);
    expect(columns).toEqual([{ name: 'price', type: 'decimal', precision: 18, scale: 4 }]);
  });

  it('reads in chunks of at most chunkSize rows', async () => {
    await expectBoundedChunks(source, source.tableQuery('series'), 5000, 777);
  });

  it('binds the cursor value as ?, compared the way SQLite stores timestamps', async () => {
    const sql = `SELECT id FROM (${source.tableQuery('events')}) m WHERE ${source.quoteIdentifier('updated_at')} > ${source.placeholder(1)} ORDER BY id`;
    expect((await readAll(source, sql, 100, ['2024-03-01T10:00:00.000003'])).rows).toEqual([{ id: 4 }, { id: 5 }]);
    expect((await readAll(source, 'SELECT count(*) AS n FROM events WHERE note = ?', 100, ["n1' OR '1'='1"])).rows).toEqual([{ n: 0 }]);
    expect((await readAll(source, 'SELECT ? + 0 AS big', 10, [9007199254740993n])).rows).toEqual([{ big: 9007199254740993n }]);
  });

  it('a query error names the source', async () => {
    await expect(readAll(source, 'SELECT * FROM missing_table')).rejects.toThrow(/source "local_app": the query failed: no such table: missing_table/);
  });

  it('opens read-only: a model cannot write', async () => {
    await expect(readAll(source, `DELETE FROM events RETURNING id`)).rejects.toThrow(/source "local_app".*readonly/i);
  });

  it('a missing file is an error naming the source and path, and no file is created', async () => {
    const missing = sqliteSourceType.create({ name: 'ghost', type: 'sqlite', path: 'absent.sqlite' }, dir);
    await expect(missing.check(new AbortController().signal)).rejects.toThrow(
      `source "ghost": SQLite database ${path.join(dir, 'absent.sqlite')} does not exist`);
    expect(existsSync(path.join(dir, 'absent.sqlite'))).toBe(false);
  });
});
