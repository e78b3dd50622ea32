import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseSourceType } from '../../src/sources/clickhouse/clickhouse-type.ts';
import { clickhouseColumn } from '../../src/sources/clickhouse/clickhouse-values.ts';
import type { Source } from '../../src/sources/source.ts';
import { ClickhouseFake } from '../fakes/clickhouse/clickhouse-fake.ts';
import { CANONICAL_ROW, CANONICAL_TYPES, expectBoundedChunks, expectStagedRoundTrip, readAll, readModelIds } from './source-conformance.ts';

const PASSWORD = 'ch-secret-7f3a9b2c1d';

/**
 * Debian's clickhouse-server (18.16) installs and runs here, but predates this format
 * (JSONCompactEachRowWithNamesAndTypes), query parameters and date_time_output_format: it
 * answers "Unknown format". So the source is tested against the fake of a current server.
 */
describe('ClickHouse source (HTTP interface fake on DuckDB)', () => {
  let fake: ClickhouseFake;
  let source: Source;
  const create = (settings: Record<string, unknown> = {}) =>
    clickhouseSourceType.create(clickhouseSourceType.settings.parse({ url: fake.url, user: 'lastmile', password: PASSWORD, ...settings }) as never, '/');

  beforeAll(async () => {
    fake = await new ClickhouseFake({ user: 'lastmile', password: PASSWORD }).start();
    // ClickHouse has no zoneless timestamp: ts is a DateTime64 (an instant), written here in UTC.
    await fake.sql(`CREATE TABLE canonical AS SELECT 1::INTEGER AS id, 9007199254740993::BIGINT AS big, 12345678901234.5678::DECIMAL(18,4) AS dec,
      TIMESTAMPTZ '2024-03-01 12:00:00.123456+02' AS tstz, TIMESTAMPTZ '2024-03-01 12:00:00.000001+00' AS ts, DATE '2024-03-01' AS d, true AS flag,
      {'a': [1, 2], 'b': 'x'} AS doc, NULL::VARCHAR AS nothing, 'héllo "world"' AS label`);
    await fake.sql(`CREATE TABLE events AS SELECT i::INTEGER AS id, TIMESTAMPTZ '2024-03-01 10:00:00+00' + i * INTERVAL 1 MICROSECOND AS updated_at, 'n' || i AS note FROM range(1, 5001) t(i)`);
    source = create();
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it('keeps every value its meaning (ts is an instant: ClickHouse has no wall-clock type)', async () => {
    const { rows, columns } = await readAll(source, 'SELECT * FROM canonical');
    expect(rows).toEqual([{ ...CANONICAL_ROW, ts: '2024-03-01T12:00:00.000001Z' }]);
    const types = Object.fromEntries(columns.map((c) => [c.name, c.type]));
    expect(types).toMatchObject({ ...CANONICAL_TYPES, ts: 'timestamptz' });
    expect(columns.find((c) => c.name === 'dec')).toEqual({ name: 'dec', type: 'decimal', precision: 18, scale: 4 });
    const sent = fake.requests.at(-1)!;
    expect(sent.query).toBe('SELECT * FROM (\nSELECT * FROM canonical\n) FORMAT JSONCompactEachRowWithNamesAndTypes');
    expect(sent.params.get('output_format_json_quote_decimals')).toBe('1');
    expect(sent.params.get('date_time_output_format')).toBe('iso');
    expect(sent.headers['x-clickhouse-user']).toBe('lastmile');
  });

  it('stages into DuckDB without changing a value', async () => {
    await expectStagedRoundTrip(source, 'SELECT * FROM canonical');
  });

  it('streams the answer in chunks of at most chunkSize rows', async () => {
    await expectBoundedChunks(source, 'SELECT * FROM events ORDER BY id', 5000, 777);
  });

  it('yields one empty chunk with columns for an empty result', async () => {
    const result = await readAll(source, 'SELECT id FROM events WHERE id < 0');
    expect(result.chunkSizes).toEqual([0]);
    expect(result.columns).toEqual([{ name: 'id', type: 'integer' }]);
  });

  it('binds typed query parameters, never pasted into the SQL', async () => {
    const sql = `SELECT id FROM (${source.tableQuery('events')}) m WHERE ${source.quoteIdentifier('updated_at')} > ${source.placeholder(1)} AND id < 6 ORDER BY id`;
    expect((await readAll(source, sql, 100, ['2024-03-01T10:00:00.000003Z'])).rows).toEqual([{ id: 4 }, { id: 5 }]);
    const sent = fake.requests.at(-1)!;
    expect(sent.query).toContain(`"updated_at" > {p1:DateTime64(6, 'UTC')}`);
    expect(sent.params.get('param_p1')).toBe('2024-03-01 10:00:00.000003');
    expect((await readAll(source, 'SELECT count(*) AS n FROM events WHERE note = {p1:String}', 10, ["n1' OR '1'='1"])).rows).toEqual([{ n: 0 }]);
    expect((await readAll(source, 'SELECT {p1:String} AS big', 10, [9007199254740993n])).rows).toEqual([{ big: 9007199254740993n }]);
  });

  it('reads a model incrementally at the cursor mark, as a run does', async () => {
    const model = { name: 'events', source: 'ch', table: 'events', primaryKey: ['id'], cursor: 'updated_at' };
    expect(await readModelIds(source, model, '2024-03-01T10:00:00.004998Z')).toEqual([4998, 4999, 5000]);
  });

  it('a query error names the source and the X-ClickHouse-Exception-Code', async () => {
    await expect(readAll(source, 'SELECT * FROM no_such_table')).rejects.toThrow(/source "[^"]+": ClickHouse answered HTTP 404, exception code 60: Code: 60\. DB::Exception: .*no_such_table.*\(UNKNOWN_TABLE\)$/);
  });

  it('an error after the answer started (status 200 sent) fails the read', async () => {
    const failing = await new ClickhouseFake({ user: 'lastmile', password: PASSWORD, failAfterRows: 1500 }).start();
    try {
      await failing.sql('CREATE TABLE t AS SELECT i AS id FROM range(3000) t(i)');
      const reader = clickhouseSourceType.create({ name: 'ch', type: 'clickhouse', url: failing.url, user: 'lastmile', password: PASSWORD }, '/');
      await expect(readAll(reader, 'SELECT * FROM t', 500)).rejects.toThrow(/ClickHouse answered HTTP 200, exception code 241: .*MEMORY_LIMIT_EXCEEDED/);
    } finally {
      await failing.stop();
    }
  });

  it('wrong credentials: code 516, named as such, the password never shown', async () => {
    const wrong = create({ password: 'not-the-password-123' });
    const error = await wrong.check(new AbortController().signal).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/HTTP 403, exception code 516 \(check user and password\): .*AUTHENTICATION_FAILED/);
    expect(error?.message).not.toContain('not-the-password-123');
    await expect(source.check(new AbortController().signal)).resolves.toBeUndefined();
  });

  it('a server that is not there is named', async () => {
    const gone = clickhouseSourceType.create({ name: 'gone', type: 'clickhouse', url: 'http://127.0.0.1:1', user: 'default' }, '/');
    await expect(gone.check(new AbortController().signal)).rejects.toThrow(/^source "gone": cannot reach ClickHouse at http:\/\/127\.0\.0\.1:1/);
  });

  it('an abort stops the read', async () => {
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of source.read('SELECT * FROM events', { chunkSize: 10, signal: controller.signal })) controller.abort(new Error('stopped by test'));
    };
    await expect(read()).rejects.toThrow('stopped by test');
  });
});

describe('ClickHouse types', () => {
  it('reads Nullable, LowCardinality, wide integers, DateTime with a zone, Decimal64(s)', () => {
    expect(clickhouseColumn('a', 'Nullable(Int64)').column.type).toBe('bigint');
    expect(clickhouseColumn('a', 'LowCardinality(Nullable(String))').column.type).toBe('varchar');
    expect(clickhouseColumn('a', 'UInt64').convert('18446744073709551615')).toBe(18446744073709551615n);
    expect(clickhouseColumn('a', 'Int256').column.type).toBe('decimal');
    expect(clickhouseColumn('a', "DateTime('Europe/Berlin')").convert('2024-03-01T10:00:00Z')).toBe('2024-03-01T10:00:00.000000Z');
    expect(clickhouseColumn('a', 'Decimal64(4)').column).toEqual({ name: 'a', type: 'decimal', precision: 18, scale: 4 });
    expect(clickhouseColumn('a', 'Map(String, UInt8)').column.type).toBe('json');
  });
});
