import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databricksSourceType } from '../../src/sources/databricks/databricks-type.ts';
import type { Source } from '../../src/sources/source.ts';
import { DatabricksFake } from '../fakes/databricks/databricks-fake.ts';
import { expectBoundedChunks, expectCanonicalRow, expectStagedRoundTrip, readAll, readModelIds } from './source-conformance.ts';

const TOKEN = 'dapi0123456789abcdef0123456789abcd';
const WAREHOUSE = '1a2b3c4d5e6f7a8b';

describe('Databricks source (Statement Execution API fake on DuckDB)', () => {
  let fake: DatabricksFake;
  let source: Source;
  const create = (settings: Record<string, unknown> = {}) => databricksSourceType.create(
    databricksSourceType.settings.parse({ host: fake.url, token: TOKEN, warehouseId: WAREHOUSE, ...settings }) as never, '/');

  beforeAll(async () => {
    fake = await new DatabricksFake({ token: TOKEN, warehouseId: WAREHOUSE, rowsPerChunk: 400 }).start();
    // Written as a Databricks table would hold it: BIGINT, DECIMAL, TIMESTAMP (an instant), TIMESTAMP_NTZ, STRUCT.
    await fake.sql(`CREATE TABLE canonical AS SELECT 1::INTEGER AS id, 9007199254740993::BIGINT AS big, 12345678901234.5678::DECIMAL(18,4) AS dec,
      TIMESTAMPTZ '2024-03-01 12:00:00.123456+02' AS tstz, TIMESTAMP '2024-03-01 12:00:00.000001' AS ts, DATE '2024-03-01' AS d, true AS flag,
      {'a': [1, 2], 'b': 'x'} AS doc, NULL::VARCHAR AS nothing, 'héllo "world"' AS label`);
    await fake.sql(`CREATE TABLE events AS SELECT i::INTEGER AS id, TIMESTAMPTZ '2024-03-01 10:00:00+00' + i * INTERVAL 1 MICROSECOND AS updated_at FROM range(1, 2501) t(i)`);
    source = create();
  });

  afterAll(async () => {
    await fake?.stop();
  });

  it('keeps every value its meaning, typed from manifest.schema.columns', async () => {
    const { columns } = await expectCanonicalRow(source, 'SELECT * FROM canonical');
    expect(columns.find((c) => c.name === 'dec')).toEqual({ name: 'dec', type: 'decimal', precision: 18, scale: 4 });
    const posted = fake.posted.at(-1)!;
    expect(posted).toMatchObject({ statement: 'SELECT * FROM canonical', warehouse_id: WAREHOUSE, wait_timeout: '10s', on_wait_timeout: 'CONTINUE', disposition: 'EXTERNAL_LINKS', format: 'JSON_ARRAY' });
  });

  it('stages into DuckDB without changing a value', async () => {
    await expectStagedRoundTrip(source, 'SELECT * FROM canonical');
  });

  it('follows next_chunk_internal_link through every chunk, handing over chunkSize rows at a time', async () => {
    const before = fake.server.log.length;
    await expectBoundedChunks(source, 'SELECT * FROM events ORDER BY id', 2500, 777);
    const chunkGets = fake.server.log.slice(before).filter((r) => /\/result\/chunks\/\d+$/.test(r.path));
    expect(chunkGets.map((r) => r.path.split('/').at(-1))).toEqual(['1', '2', '3', '4', '5', '6']); // 2500 rows, 400 a chunk
    expect(chunkGets[0]!.query.get('row_offset')).toBe('400');
  });

  it('reads EXTERNAL_LINKS chunks from their presigned URLs, without the token', async () => {
    const before = fake.server.log.length;
    await expectBoundedChunks(source, 'SELECT * FROM events ORDER BY id', 2500, 1000);
    const downloads = fake.server.log.slice(before).filter((r) => r.path.startsWith('/fake-storage/'));
    expect(downloads).toHaveLength(7); // 2500 rows, 400 a chunk
    expect(downloads.every((r) => r.status === 200 && r.headers.authorization === undefined)).toBe(true);
  });

  it('asks again for a link that expired before it was read', async () => {
    fake.expireNextLinks(1);
    const before = fake.server.log.length;
    expect((await readAll(source, 'SELECT id FROM events WHERE id <= 10 ORDER BY id')).rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const log = fake.server.log.slice(before).map((r) => `${r.status} ${r.path.replace(/[0-9a-f-]{36}/, 'ID')}`);
    expect(log.filter((line) => !line.endsWith('/api/2.0/sql/statements'))).toEqual([
      '403 /fake-storage/ID/0', '200 /api/2.0/sql/statements/ID/result/chunks/0', '200 /fake-storage/ID/0']);
  });

  it('INLINE fails a result over the inline limit; EXTERNAL_LINKS reads it whole', async () => {
    const small = await new DatabricksFake({ token: TOKEN, warehouseId: WAREHOUSE, rowsPerChunk: 400, inlineByteLimit: 10_000 }).start();
    try {
      await small.sql(`CREATE TABLE big AS SELECT i AS id, repeat('x', 20) AS pad FROM range(1, 2001) t(i)`);
      const at = (disposition: string) => databricksSourceType.create(
        databricksSourceType.settings.parse({ host: small.url, token: TOKEN, warehouseId: WAREHOUSE, disposition }) as never, '/');
      await expect(readAll(at('INLINE'), 'SELECT * FROM big')).rejects.toThrow(/ended FAILED .*inline byte limit/);
      expect((await readAll(at('EXTERNAL_LINKS'), 'SELECT * FROM big')).rows).toHaveLength(2000);
    } finally {
      await small.stop();
    }
  });

  it('reads other types: BINARY (base64), ARRAY, MAP, DOUBLE, SMALLINT', async () => {
    const { rows, columns } = await readAll(source, `SELECT '\\x00\\xFF'::BLOB AS bin, [1, NULL, 3] AS arr, MAP {'k': 1} AS m, 1.5::DOUBLE AS dbl, 7::SMALLINT AS small`);
    expect(rows).toEqual([{ bin: new Uint8Array([0, 255]), arr: [1, null, 3], m: { k: 1 }, dbl: 1.5, small: 7 }]);
    expect(columns.map((c) => c.type)).toEqual(['blob', 'json', 'json', 'double', 'integer']);
  });

  it('yields one empty chunk with columns for an empty result', async () => {
    const result = await readAll(source, 'SELECT id FROM events WHERE id < 0');
    expect(result.chunkSizes).toEqual([0]);
    expect(result.columns).toEqual([{ name: 'id', type: 'integer' }]);
  });

  it('binds parameters as named markers, never pasted into the SQL', async () => {
    const sql = `SELECT id FROM (${source.tableQuery('events')}) m WHERE ${source.quoteIdentifier('updated_at')} > ${source.placeholder(1)} AND id < 6 ORDER BY id`;
    expect(sql).toContain('`updated_at` > :p1');
    expect((await readAll(source, sql, 100, ['2024-03-01T10:00:00.000003Z'])).rows).toEqual([{ id: 4 }, { id: 5 }]);
    expect(fake.posted.at(-1)!.parameters).toEqual([{ name: 'p1', value: '2024-03-01T10:00:00.000003Z' }]);
    expect((await readAll(source, "SELECT count(*) AS n FROM events WHERE CAST(id AS VARCHAR) = :p1", 10, ["1' OR '1'='1"])).rows).toEqual([{ n: 0 }]);
    expect((await readAll(source, 'SELECT :p1 + 0 AS big', 10, [9007199254740993n])).rows).toEqual([{ big: 9007199254740993n }]);
    expect(fake.posted.at(-1)!.parameters).toEqual([{ name: 'p1', value: '9007199254740993', type: 'BIGINT' }]);
  });

  it('reads a model incrementally at the cursor mark, as a run does', async () => {
    const model = { name: 'events', source: 'lake', sql: 'SELECT id, updated_at FROM events', primaryKey: ['id'], cursor: 'updated_at' };
    expect(await readModelIds(source, model, '2024-03-01T10:00:00.002498Z')).toEqual([2498, 2499, 2500]);
  });

  it('polls GET /statements/{id} while the statement is PENDING or RUNNING', async () => {
    const slow = await new DatabricksFake({ token: TOKEN, warehouseId: WAREHOUSE, runningPolls: 3 }).start();
    try {
      await slow.sql('CREATE TABLE t AS SELECT 42 AS answer');
      const polling = databricksSourceType.create(databricksSourceType.settings.parse({ host: slow.url, token: TOKEN, warehouseId: WAREHOUSE }) as never, '/');
      expect((await readAll(polling, 'SELECT answer FROM t')).rows).toEqual([{ answer: 42 }]);
      const gets = slow.server.log.filter((r) => r.method === 'GET' && /^\/api\/2\.0\/sql\/statements\/[^/]+$/.test(r.path));
      expect(gets).toHaveLength(4); // RUNNING three times, then SUCCEEDED
    } finally {
      await slow.stop();
    }
  });

  it('retries a 429 (REQUEST_LIMIT_EXCEEDED) after its Retry-After, then reads', async () => {
    fake.server.inject(
      { status: 429, headers: { 'retry-after': '0' }, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'Too many requests' } },
      { status: 429, headers: { 'retry-after': '0' }, body: { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'Too many requests' } },
    );
    expect((await readAll(source, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('a failed statement names the source, its error_code and message', async () => {
    await expect(readAll(source, 'SELECT * FROM no_such_table')).rejects.toThrow(/source "[^"]+": the statement ended FAILED on warehouse 1a2b3c4d5e6f7a8b: BAD_REQUEST: .*no_such_table/);
  });

  it('an error answer says what Databricks said; a wrong token is named as such and never shown', async () => {
    await expect(readAll(create({ warehouseId: 'nope' }), 'SELECT 1')).rejects.toThrow(/RESOURCE_DOES_NOT_EXIST: SQL warehouse nope does not exist/);
    const wrong = create({ token: 'dapi-wrong-token-value-123' });
    const error = await wrong.check(new AbortController().signal).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/Databricks refused the token \(PERMISSION_DENIED: Invalid access token\.\)/);
    expect(error?.message).not.toContain('dapi-wrong-token-value-123');
    await expect(source.check(new AbortController().signal)).resolves.toBeUndefined();
  });

  it('an abort cancels the running statement', async () => {
    const slow = await new DatabricksFake({ token: TOKEN, warehouseId: WAREHOUSE, runningPolls: 1_000_000 }).start();
    try {
      const polling = databricksSourceType.create(databricksSourceType.settings.parse({ host: slow.url, token: TOKEN, warehouseId: WAREHOUSE }) as never, '/');
      const controller = new AbortController();
      const reading = (async () => { for await (const _ of polling.read('SELECT 2', { chunkSize: 10, signal: controller.signal })) { /* never */ } })().catch((e: Error) => e);
      const until = async (condition: () => boolean) => { for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 20)); };
      await until(() => slow.server.log.some((r) => r.method === 'GET'));
      controller.abort(new Error('stopped by test'));
      expect(((await reading) as Error).message).toBe('stopped by test');
      const [statement] = [...slow.statements.values()];
      await until(() => statement!.state === 'CANCELED');
      expect(slow.server.requestsTo(`/api/2.0/sql/statements/${statement!.id}/cancel`)).toHaveLength(1);
      expect(statement!.state).toBe('CANCELED');
    } finally {
      await slow.stop();
    }
  });

  it('settings: waitTimeout as the API accepts it; the token is secret', () => {
    const base = { host: 'https://dbc-a1b2c3d4-e5f6.cloud.databricks.com', token: 't', warehouseId: 'w' };
    expect(databricksSourceType.settings.safeParse(base).success).toBe(true);
    expect(databricksSourceType.settings.safeParse({ ...base, waitTimeout: 3 }).success).toBe(false);
    expect(databricksSourceType.settings.safeParse({ ...base, waitTimeout: 0 }).success).toBe(true);
    expect(databricksSourceType.secretSettings).toEqual(['token']);
  });
});
