import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbSourceType } from '../../src/sources/duckdb/duckdb-type.ts';
import { streamRows } from '../../src/sources/duckdb/duckdb-rows.ts';
import { stageRows } from '../../src/sources/duckdb/duckdb-staging.ts';
import { isDuckdbNative, type DuckdbNativeSource, type Row, type RowChunk } from '../../src/sources/source.ts';
import { CANONICAL_ROW, expectBoundedChunks, expectCanonicalRow, expectStagedRoundTrip, readAll } from './source-conformance.ts';

const signal = new AbortController().signal;
// A folder name with a quote: paths must be quoted, never pasted.
let dir: string;
let source: DuckdbNativeSource;
let memory: DuckDBInstance;
let connection: DuckDBConnection;

const CANONICAL_SQL = `SELECT 1 AS id, 9007199254740993::BIGINT AS big, 12345678901234.5678::DECIMAL(18,4) AS dec,
  TIMESTAMPTZ '2024-03-01 12:00:00.123456+02' AS tstz, TIMESTAMP '2024-03-01 12:00:00.000001' AS ts,
  DATE '2024-03-01' AS d, true AS flag, '{"a":[1,2],"b":"x"}'::JSON AS doc, NULL::VARCHAR AS nothing,
  'héllo "world"' AS label`;

/** Every DuckDB type a model may select, with edge values. */
const ALL_TYPES_SQL = `SELECT * FROM (VALUES
  (1, 9007199254740993::BIGINT, 170141183460469231731687303715884105727::HUGEINT, 18446744073709551615::UBIGINT,
   -0.05::DECIMAL(4,2), 123456.789::DECIMAL(9,3), -12345678901234.5678::DECIMAL(18,4),
   123456789012345678901234.56::DECIMAL(38,2), 1.5::DOUBLE, 2::SMALLINT, true,
   DATE '0044-03-15', TIMESTAMP '1969-12-31 23:59:59.999999', TIMESTAMPTZ '2300-01-01 00:00:00.000001+00',
   TIME '23:59:59.999999', 'text ✓', '{"n":null,"list":[1,"two"]}'::JSON, [1, 2, 3], {'k': 'v', 'n': 2},
   MAP {'a': 1}, '\\x00\\xFF'::BLOB, 'infinity'::TIMESTAMP, 'infinity'::DATE),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL)
) AS t(id, big, huge, ubig, dec2, dec9, dec18, dec38, dbl, small, flag, d, ts, tstz, tm, txt, doc, list, struct,
       map, bin, ts_inf, d_inf)`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "lm-duckdb-src-it's-"));
  const file = path.join(dir, 'warehouse.duckdb');
  const writer = await DuckDBInstance.create(file);
  const setup = await writer.connect();
  await setup.run(`CREATE TABLE prices AS SELECT i AS sku, i * 1.25 AS price, TIMESTAMPTZ '2024-01-01 00:00:00+00' + to_seconds(i) AS updated_at FROM range(5000) r(i)`);
  await setup.run('CREATE SCHEMA analytics');
  await setup.run(`CREATE TABLE analytics."order lines" AS SELECT 1 AS id`);
  setup.closeSync();
  writer.closeSync();
  source = duckdbSource('warehouse', 'warehouse.duckdb');
  memory = await DuckDBInstance.create(':memory:');
  connection = await memory.connect();
});

afterAll(async () => {
  await source?.close();
  connection?.closeSync();
  memory?.closeSync();
  await rm(dir, { recursive: true, force: true });
});

function duckdbSource(name: string, file: string): DuckdbNativeSource {
  const created = duckdbSourceType.create({ name, type: 'duckdb', path: file }, dir);
  if (!isDuckdbNative(created)) throw new Error('a DuckDB source must be DuckDB-native');
  return created;
}

async function collect(chunks: AsyncIterable<RowChunk>): Promise<{ rows: Row[]; sizes: number[] }> {
  const rows: Row[] = [];
  const sizes: number[] = [];
  for await (const chunk of chunks) { rows.push(...chunk.rows); sizes.push(chunk.rows.length); }
  return { rows, sizes };
}

describe('streamRows', () => {
  it('gives every DuckDB type its canonical value', async () => {
    const { rows } = await collect(streamRows(connection, ALL_TYPES_SQL, [], 10, signal));
    expect(rows[0]).toEqual({
      id: 1, big: 9007199254740993n, huge: 170141183460469231731687303715884105727n, ubig: 18446744073709551615n,
      dec2: '-0.05', dec9: '123456.789', dec18: '-12345678901234.5678', dec38: '123456789012345678901234.56',
      dbl: 1.5, small: 2, flag: true, d: '0044-03-15', ts: '1969-12-31T23:59:59.999999',
      tstz: '2300-01-01T00:00:00.000001Z', tm: '23:59:59.999999', txt: 'text ✓',
      doc: { n: null, list: [1, 'two'] }, list: [1, 2, 3], struct: { k: 'v', n: 2 }, map: { a: 1 },
      bin: new Uint8Array([0, 255]), ts_inf: 'infinity', d_inf: 'infinity',
    });
    expect(Object.values(rows[1]!).slice(1).every((value) => value === null)).toBe(true);
  });

  it('reports logical column types, with precision and scale for decimals', async () => {
    for await (const chunk of streamRows(connection, ALL_TYPES_SQL, [], 10, signal)) {
      const types = Object.fromEntries(chunk.columns.map((c) => [c.name, c.type]));
      expect(types).toMatchObject({
        big: 'bigint', huge: 'bigint', dec18: 'decimal', dbl: 'double', small: 'integer', flag: 'boolean',
        d: 'date', ts: 'timestamp', tstz: 'timestamptz', tm: 'time', txt: 'varchar', doc: 'json',
        list: 'json', struct: 'json', map: 'json', bin: 'blob',
      });
      expect(chunk.columns.find((c) => c.name === 'dec18')).toMatchObject({ precision: 18, scale: 4 });
    }
  });

  it('yields chunks of at most chunkSize rows, smaller or larger than DuckDB vectors', async () => {
    for (const chunkSize of [777, 5000, 3000]) {
      const { rows, sizes } = await collect(streamRows(connection, 'SELECT i FROM range(10000) r(i)', [], chunkSize, signal));
      expect(rows.map((row) => row.i)).toEqual(Array.from({ length: 10000 }, (_, i) => i));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(chunkSize);
      expect(sizes).toHaveLength(Math.ceil(10000 / chunkSize));
    }
  });

  it('yields one empty chunk with the columns when the result is empty', async () => {
    const chunks: RowChunk[] = [];
    for await (const chunk of streamRows(connection, 'SELECT 1 AS a, 2.5 AS b WHERE false', [], 10, signal)) chunks.push(chunk);
    expect(chunks).toEqual([{ columns: [{ name: 'a', type: 'integer' }, { name: 'b', type: 'decimal', precision: 2, scale: 1 }], rows: [] }]);
  });

  it('binds parameters: a canonical timestamp, a bigint, a text with quotes', async () => {
    const sql = `SELECT i FROM range(5) r(i)
      WHERE TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_microseconds(i) > $1 AND $2 = 9007199254740993 AND $3 = 'it''s'`;
    const { rows } = await collect(streamRows(connection, sql, ['2024-03-01T00:00:00.000002Z', 9007199254740993n, "it's"], 10, signal));
    expect(rows).toEqual([{ i: 3 }, { i: 4 }]);
  });

  it('compares a decimal cursor as a number, not as text', async () => {
    const sql = `SELECT d FROM (VALUES (9.5::DECIMAL(10,2)), (10.0::DECIMAL(10,2))) t(d) WHERE d > $1`;
    const { rows } = await collect(streamRows(connection, sql, ['9.75'], 10, signal));
    expect(rows).toEqual([{ d: '10.00' }]); // as text, '10.00' < '9.75'
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of streamRows(connection, 'SELECT i FROM range(100000) r(i)', [], 100, controller.signal)) controller.abort();
    };
    await expect(read()).rejects.toThrow(/abort/i);
  });
});

describe('stageRows', () => {
  it('round-trips every value type exactly through the appender', async () => {
    const { rows } = await collect(streamRows(connection, ALL_TYPES_SQL, [], 10, signal));
    const other = await (await DuckDBInstance.create(':memory:')).connect();
    const count = await stageRows(other, 'lm_staged', streamRows(connection, ALL_TYPES_SQL, [], 1, signal), signal);
    expect(count).toBe(2);
    const back = await collect(streamRows(other, 'SELECT * FROM lm_staged ORDER BY id', [], 10, signal));
    expect(back.rows).toEqual(rows);
    other.closeSync();
  });

  it('keeps declared decimal precision and falls back to DECIMAL(38,10) without one', async () => {
    const chunks = (async function* () {
      yield {
        columns: [{ name: 'exact', type: 'decimal' as const, precision: 20, scale: 6 }, { name: 'loose', type: 'decimal' as const }],
        rows: [{ exact: '-12345678901234.567891', loose: '1234567890123456789012345678.0123456789' }, { exact: '0.000001', loose: '-0.5' }],
      };
    })();
    const other = await (await DuckDBInstance.create(':memory:')).connect();
    await stageRows(other, 'lm_decimals', chunks, signal);
    const back = await collect(streamRows(other, 'SELECT * FROM lm_decimals', [], 10, signal));
    expect(back.rows).toEqual([
      { exact: '-12345678901234.567891', loose: '1234567890123456789012345678.0123456789' },
      { exact: '0.000001', loose: '-0.5000000000' },
    ]);
    const types = await other.runAndReadAll(`SELECT data_type FROM duckdb_columns() WHERE table_name = 'lm_decimals'`);
    expect(types.getRows().flat()).toEqual(['DECIMAL(20,6)', 'DECIMAL(38,10)']);
    other.closeSync();
  });

  it('names the column and row of a value that does not fit', async () => {
    const chunks = (async function* () {
      yield { columns: [{ name: 'when', type: 'date' as const }], rows: [{ when: '2024-03-01' }, { when: 'yesterday' }] };
    })();
    await expect(stageRows(connection, 'lm_bad_dates', chunks, signal)).rejects.toThrow(/column "when" of row 2.*"yesterday" is not a date/);
  });
});

describe('DuckDB source', () => {
  it('reads the canonical row and round-trips it through staging', async () => {
    await expectCanonicalRow(source, CANONICAL_SQL);
    await expectStagedRoundTrip(source, CANONICAL_SQL);
    expect(CANONICAL_ROW.big).toBe(9007199254740993n);
  });

  it('reads a table in bounded chunks', async () => {
    await expectBoundedChunks(source, source.tableQuery('prices'), 5000, 1234);
  });

  it('quotes table names, schema-qualified or with spaces', async () => {
    const { rows } = await readAll(source, source.tableQuery('analytics.order lines'));
    expect(rows).toEqual([{ id: 1 }]);
  });

  it('binds the cursor as a $n parameter', async () => {
    const sql = `SELECT sku FROM prices WHERE updated_at > ${source.placeholder(1)} ORDER BY sku`;
    const { rows } = await readAll(source, sql, 100, ['2024-01-01T01:23:17.000000Z']);
    expect(rows).toEqual([{ sku: 4998 }, { sku: 4999 }]); // 01:23:17 is second 4997
  });

  it('attach makes the tables readable by unqualified name, read-only', async () => {
    const workspace = await (await DuckDBInstance.create(':memory:')).connect();
    await source.attach(workspace, signal);
    await source.attach(workspace, signal); // twice is harmless
    const count = await workspace.runAndReadAll('SELECT count(*) AS n, max(sku) AS top FROM prices');
    expect(count.getRowObjects()[0]).toEqual({ n: 5000n, top: 4999n });
    await expect(workspace.run('INSERT INTO prices VALUES (1, 1, now())')).rejects.toThrow(/read-only/i);
    await workspace.run('CREATE TEMP TABLE lm_scratch AS SELECT 1 AS x'); // the engine's own tables still work
    workspace.closeSync();
  });

  it('check passes on an existing file', async () => {
    await expect(source.check(signal)).resolves.toBeUndefined();
  });

  it('a missing file is an error naming the source and path, and no file is created', async () => {
    const missing = duckdbSource('ghost', 'nope/absent.duckdb');
    const expected = path.join(dir, 'nope/absent.duckdb');
    await expect(missing.check(signal)).rejects.toThrow(`source "ghost": DuckDB database ${expected} does not exist`);
    const workspace = await (await DuckDBInstance.create(':memory:')).connect();
    await expect(missing.attach(workspace, signal)).rejects.toThrow(/source "ghost"/);
    await expect(readAll(missing, 'SELECT 1')).rejects.toThrow(/source "ghost"/);
    expect(existsSync(expected)).toBe(false);
    workspace.closeSync();
  });

  it(':memory: reads files relative to the project folder', async () => {
    await mkdir(path.join(dir, 'data'), { recursive: true });
    await connection.run(`COPY (SELECT 'a' AS sku, 1.5 AS price) TO '${path.join(dir, 'data/p.csv').replaceAll("'", "''")}'`);
    const inMemory = duckdbSource('scratch', ':memory:');
    await inMemory.check(signal);
    const workspace = await (await DuckDBInstance.create(':memory:')).connect();
    await inMemory.attach(workspace, signal);
    const rows = await workspace.runAndReadAll(`SELECT sku FROM read_csv('data/p.csv')`);
    expect(rows.getRows()).toEqual([['a']]);
    expect((await readAll(inMemory, `SELECT sku FROM read_csv('data/p.csv')`)).rows).toEqual([{ sku: 'a' }]);
    await inMemory.close();
    workspace.closeSync();
  });
});
