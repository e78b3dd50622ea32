import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snowflakeSourceType, type SnowflakeSettings } from '../../src/sources/snowflake/snowflake-type.ts';
import { SnowflakeSource } from '../../src/sources/snowflake/snowflake-source.ts';
import { snowflakeColumn } from '../../src/sources/snowflake/snowflake-values.ts';
import { jwtAccount } from '../../src/sources/snowflake/snowflake-auth.ts';
import { postgresSourceType } from '../../src/sources/postgres/postgres-type.ts';
import { fingerprintRow } from '../../src/diff/fingerprint/fingerprint-v1.ts';
import type { Source } from '../../src/sources/source.ts';
import { SnowflakeFake } from '../fakes/snowflake/snowflake-fake.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { CANONICAL_ROW, expectBoundedChunks, expectCanonicalRow, expectStagedRoundTrip, readAll, readModelIds } from './source-conformance.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const FAST_RETRY = { attempts: 4, backoff: { baseMs: 1, capMs: 5 } };
const CANONICAL_TABLE = `CREATE TABLE canonical ("id" INTEGER, "big" BIGINT, "dec" DECIMAL(18,4), "tstz" TIMESTAMPTZ, "ts" TIMESTAMP,
  "d" DATE, "flag" BOOLEAN, "doc" JSON, "nothing" VARCHAR, "label" VARCHAR);
  INSERT INTO canonical VALUES (1, 9007199254740993, 12345678901234.5678, '2024-03-01 12:00:00.123456+02',
  '2024-03-01 12:00:00.000001', '2024-03-01', true, '{"a":[1,2],"b":"x"}', NULL, 'héllo "world"');
  CREATE TABLE events ("id" INTEGER, "updated_at" TIMESTAMPTZ, "note" VARCHAR);
  INSERT INTO events SELECT i, TIMESTAMPTZ '2024-03-01 10:00:00+00' + i * INTERVAL 1 MICROSECOND, 'n' || i FROM range(1, 6) t(i);`;

function settings(fake: SnowflakeFake, extra: Partial<SnowflakeSettings> = {}): SnowflakeSettings {
  return { account: 'myorg-acct', user: 'lastmile', auth: { privateKey }, warehouse: 'WH', database: 'DB', url: fake.url, ...extra };
}

async function startFake(options: Partial<ConstructorParameters<typeof SnowflakeFake>[0]> = {}): Promise<SnowflakeFake> {
  const fake = await new SnowflakeFake({ account: 'MYORG-ACCT', user: 'LASTMILE', publicKey: keys.publicKey, oauthTokens: ['oauth-ok'], ...options }).start();
  await fake.engine.run(CANONICAL_TABLE);
  return fake;
}

describe('Snowflake source (SQL API v2, against the fake)', () => {
  let fake: SnowflakeFake;
  let source: SnowflakeSource;

  beforeAll(async () => {
    fake = await startFake({ partitionRows: 600 });
    source = new SnowflakeSource('wh', settings(fake), FAST_RETRY);
  });
  afterAll(async () => {
    await source?.close();
    await fake?.stop();
  });

  it('keeps every value its meaning (conformance: the canonical row)', async () => {
    const { columns } = await expectCanonicalRow(source, 'SELECT * FROM canonical');
    expect(columns.find((c) => c.name === 'dec')).toMatchObject({ type: 'decimal', precision: 18, scale: 4 });
  });

  it('stages into DuckDB without changing a value', async () => {
    await expectStagedRoundTrip(source, 'SELECT * FROM canonical');
    await expectStagedRoundTrip(source, `SELECT TIME '23:59:59.999999' AS tm, [1, 2, NULL] AS ints, {'k': 'v'} AS obj,
      '\\x00\\xFF'::BLOB AS bin, 1.5::DOUBLE AS dbl, TIMESTAMP '1969-12-31 23:59:59.5' AS before_epoch`);
  });

  it('reads result partitions in order, each once, in chunks of at most chunkSize rows', async () => {
    const before = fake.server.log.length;
    await expectBoundedChunks(source, `SELECT i, md5(i::VARCHAR) AS h FROM range(5000) t(i)`, 5000, 777);
    const partitionGets = fake.server.log.slice(before).filter((r) => r.query.has('partition')).map((r) => Number(r.query.get('partition')));
    expect(partitionGets.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // 9 partitions of 600; partition 0 came with the result
    const { rows } = await readAll(source, 'SELECT i FROM range(5000) t(i) ORDER BY i', 1000);
    expect(rows.map((r) => r.i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('reads other types: TIME, arrays and objects as JSON, binary, doubles, timestamps before 1970', async () => {
    const { rows, columns } = await readAll(source, `SELECT TIME '23:59:59.999999' AS tm, [1, 2, NULL] AS ints, {'k': 'v'} AS obj,
      '\\x00\\xFF'::BLOB AS bin, 1.5::DOUBLE AS dbl, TIMESTAMP '1969-12-31 23:59:59.5' AS before_epoch, 123456789012345678901234.5::DECIMAL(38,1) AS wide`);
    expect(rows).toEqual([{ tm: '23:59:59.999999', ints: [1, 2, null], obj: { k: 'v' }, bin: new Uint8Array([0, 255]), dbl: 1.5,
      before_epoch: '1969-12-31T23:59:59.500000', wide: '123456789012345678901234.5' }]);
    expect(columns.map((c) => c.type)).toEqual(['time', 'json', 'json', 'blob', 'double', 'timestamp', 'decimal']);
  });

  it('yields one empty chunk with columns for an empty result', async () => {
    const result = await readAll(source, 'SELECT 1::BIGINT AS a WHERE false');
    expect(result.chunkSizes).toEqual([0]);
    expect(result.columns).toEqual([{ name: 'a', type: 'bigint' }]);
  });

  it('sends parameters as bindings, never pasted into the SQL', async () => {
    const sql = `SELECT "id" FROM (${source.tableQuery('events')}) m WHERE ${source.quoteIdentifier('updated_at')} > ${source.placeholder(1)} ORDER BY "id"`;
    expect((await readAll(source, sql, 100, ['2024-03-01T10:00:00.000003Z'])).rows).toEqual([{ id: 4 }, { id: 5 }]);
    expect((await readAll(source, 'SELECT count(*) AS n FROM events WHERE "note" = ?', 100, ["n1' OR '1'='1"])).rows).toEqual([{ n: 0 }]);
    expect((await readAll(source, 'SELECT ? + 0 AS big', 10, [9007199254740993n])).rows).toEqual([{ big: 9007199254740993n }]);
    const submit = fake.server.log.filter((r) => r.method === 'POST').at(-1)!;
    expect(JSON.parse(submit.body).bindings).toEqual({ 1: { type: 'FIXED', value: '9007199254740993' } });
  });

  it('a run reads the model; in cursor mode only the rows at or past the mark', async () => {
    const model = { name: 'events', source: 'wh', table: 'events', primaryKey: ['id'], cursor: 'updated_at' };
    expect(await readModelIds(source, model as never, null)).toEqual([1, 2, 3, 4, 5]);
    expect(await readModelIds(source, model as never, '2024-03-01T10:00:00.000003Z')).toEqual([3, 4, 5]);
  });

  it('signs a key-pair JWT Snowflake takes: RS256, iss ACCOUNT.USER.SHA256:<fp>, sub ACCOUNT.USER, an hour at most', async () => {
    await source.check(new AbortController().signal);
    const request = fake.server.log.at(-1)!;
    expect(request.path).toBe('/api/v2/statements');
    expect(request.query.get('requestId')).toMatch(/^[0-9a-f-]{36}$/);
    expect(request.headers['x-snowflake-authorization-token-type']).toBe('KEYPAIR_JWT');
    const token = String(request.headers.authorization).slice('Bearer '.length);
    const claims = decodeJwt(token);
    expect(decodeProtectedHeader(token).alg).toBe('RS256');
    expect(claims.sub).toBe('MYORG-ACCT.LASTMILE');
    expect(claims.iss).toMatch(/^MYORG-ACCT\.LASTMILE\.SHA256:[A-Za-z0-9+/]{43}=$/);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(3600);
    expect(JSON.parse(request.body)).toMatchObject({ statement: 'SELECT 1', warehouse: 'WH', database: 'DB' });
  });

  it('signs with an encrypted private key and its passphrase', async () => {
    const encrypted = keys.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' }).toString();
    const withPassphrase = new SnowflakeSource('wh', settings(fake, { auth: { privateKey: encrypted, privateKeyPassphrase: 'open sesame' } }), FAST_RETRY);
    expect((await readAll(withPassphrase, 'SELECT 1 AS a')).rows).toEqual([{ a: 1 }]);
  });

  it('leaves plain table names unquoted, so Snowflake upper-cases them as in SQL; quotes the others', () => {
    expect(source.tableQuery('analytics.customers')).toBe('SELECT * FROM analytics.customers');
    expect(source.tableQuery('analytics.Order Items')).toBe('SELECT * FROM analytics."Order Items"');
  });

  it('names the account in a JWT without region or cloud', () => {
    expect(jwtAccount('xy12345.us-east-2.aws')).toBe('XY12345');
    expect(jwtAccount('myorg-myaccount')).toBe('MYORG-MYACCOUNT');
  });

  it('a query error names the source and carries Snowflake\'s code, SQL state and message', async () => {
    await expect(readAll(source, 'SELECT * FROM no_such_table')).rejects.toThrow(
      /^source "wh": the query failed: Snowflake answered 422 002003 \(SQL state 42S02\): SQL compilation error:\n.*no_such_table/);
  });

  it('an abort mid-read stops it and cancels the statement; the source stays usable', async () => {
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of source.read('SELECT i FROM range(5000) t(i)', { chunkSize: 10, signal: controller.signal })) controller.abort(new Error('stopped by test'));
    };
    await expect(read()).rejects.toThrow('stopped by test');
    await expect.poll(() => fake.cancelled().length).toBe(1);
    await expect(source.check(new AbortController().signal)).resolves.toBeUndefined();
  });

  it('settings: an account, a user, and a key pair or an OAuth token', () => {
    const ok = { account: 'xy12345.us-east-2.aws', user: 'u', auth: { privateKey: 'PEM' } };
    expect(snowflakeSourceType.settings.safeParse(ok).success).toBe(true);
    expect(snowflakeSourceType.settings.safeParse({ ...ok, auth: { oauthToken: 't' } }).success).toBe(true);
    expect(snowflakeSourceType.settings.safeParse({ ...ok, auth: {} }).success).toBe(false);
    expect(snowflakeSourceType.settings.safeParse({ user: 'u', auth: { oauthToken: 't' } }).success).toBe(false);
    expect(snowflakeSourceType.secretSettings).toEqual(expect.arrayContaining(['auth.privateKey', 'auth.oauthToken']));
  });
});

describe('Snowflake source: statements, retries and auth', () => {
  let fake: SnowflakeFake;
  afterAll(async () => fake?.stop());

  it('follows a 202 by polling the statement handle until the result is there', async () => {
    fake = await startFake({ pendingPolls: 3 });
    const source = new SnowflakeSource('wh', settings(fake), FAST_RETRY);
    expect((await readAll(source, 'SELECT 42 AS answer')).rows).toEqual([{ answer: 42 }]);
    const [submit, ...polls] = fake.server.log;
    expect(submit!.status).toBe(202);
    expect(polls.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 202', 'GET 202', 'GET 202', 'GET 200']);
    expect(polls[0]!.path).toMatch(/^\/api\/v2\/statements\/[0-9a-f-]{36}$/);
    await fake.stop();
  });

  it('retries 429 and 5xx; a retried submit keeps its requestId and says retry=true, and runs once', async () => {
    fake = await startFake();
    const source = new SnowflakeSource('wh', settings(fake), FAST_RETRY);
    fake.server.inject({ status: 429, body: { message: 'Too many requests' } }, { status: 503, body: { code: '000000', message: 'Service Unavailable' } });
    expect((await readAll(source, 'SELECT 7 AS n')).rows).toEqual([{ n: 7 }]);
    const submits = fake.server.log.filter((r) => r.method === 'POST');
    expect(submits.map((r) => r.status)).toEqual([429, 503, 200]);
    expect(new Set(submits.map((r) => r.query.get('requestId'))).size).toBe(1);
    expect(submits.map((r) => r.query.get('retry'))).toEqual([null, 'true', 'true']);
    expect(fake.executions).toBe(1);
    await fake.stop();
  });

  it('a resubmitted request id answers the statement already run instead of running it again', async () => {
    fake = await startFake();
    const post = (retry: boolean) => fetch(`${fake.url}/api/v2/statements?requestId=0b5e4c9e-8d1e-4a9e-9f7a-3c2d1e0f9a8b${retry ? '&retry=true' : ''}`, {
      method: 'POST', headers: { authorization: 'Bearer oauth-ok', 'content-type': 'application/json' }, body: JSON.stringify({ statement: 'SELECT 1 AS a' }),
    }).then((r) => r.json() as Promise<{ statementHandle: string }>);
    const first = await post(false);
    const again = await post(true);
    expect(again.statementHandle).toBe(first.statementHandle);
    expect(fake.executions).toBe(1);
    await fake.stop();
  });

  it('signs a fresh JWT once when Snowflake refuses one, and resubmits with retry=true', async () => {
    fake = await startFake();
    const source = new SnowflakeSource('wh', settings(fake), FAST_RETRY);
    fake.server.inject({ status: 401, body: { code: '390144', message: 'JWT token is invalid.' } });
    expect((await readAll(source, 'SELECT 1 AS a')).rows).toEqual([{ a: 1 }]);
    const submits = fake.server.log.filter((r) => r.method === 'POST');
    expect(submits.map((r) => `${r.status} ${r.query.get('retry')}`)).toEqual(['401 null', '200 true']);
    fake.server.inject({ status: 401, body: { code: '390144', message: 'JWT token is invalid.' } }, { status: 401, body: { code: '390144', message: 'JWT token is invalid.' } });
    await expect(readAll(source, 'SELECT 1 AS a')).rejects.toThrow(/401 390144: JWT token is invalid\./);
    await fake.stop();
  });

  it('gives up after its attempts with a message naming the source and the last answer', async () => {
    fake = await startFake();
    const source = new SnowflakeSource('wh', settings(fake), FAST_RETRY);
    fake.server.inject(...Array.from({ length: 4 }, () => ({ status: 503, body: { code: '000000', message: 'Service Unavailable' } })));
    await expect(readAll(source, 'SELECT 1 AS a')).rejects.toThrow(/^source "wh": the query failed: Snowflake: gave up after 4 attempts \(HTTP 503: .*Service Unavailable/);
    await fake.stop();
  });

  it('reads with an OAuth token; a refused key or token is a 401 naming what to check', async () => {
    fake = await startFake();
    const oauth = new SnowflakeSource('wh', settings(fake, { auth: { oauthToken: 'oauth-ok' } }), FAST_RETRY);
    expect((await readAll(oauth, 'SELECT 1 AS a')).rows).toEqual([{ a: 1 }]);
    expect(fake.server.log.at(-1)!.headers['x-snowflake-authorization-token-type']).toBe('OAUTH');
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const wrongKey = new SnowflakeSource('wh', settings(fake, { auth: { privateKey: other } }), FAST_RETRY);
    await expect(wrongKey.check(new AbortController().signal)).rejects.toThrow(
      /^source "wh": cannot run a query at http:\/\/127\.0\.0\.1:\d+: Snowflake answered 401 390144: JWT token is invalid\.; check the user, its RSA_PUBLIC_KEY and account$/);
    const badToken = new SnowflakeSource('wh', settings(fake, { auth: { oauthToken: 'nope' } }), FAST_RETRY);
    await expect(badToken.check(new AbortController().signal)).rejects.toThrow(/401 390303: Invalid OAuth access token\.; check the OAuth token/);
    await fake.stop();
  });

  it('reads TIMESTAMP_TZ (seconds in UTC, then the zone as minutes + 1440) as the same instant', async () => {
    fake = await startFake({ tzOffsetMinutes: 120 });
    const source = new SnowflakeSource('wh', settings(fake), FAST_RETRY);
    const { rows, columns } = await readAll(source, 'SELECT "tstz" FROM canonical');
    expect(rows).toEqual([{ tstz: CANONICAL_ROW.tstz }]);
    expect(columns).toEqual([{ name: 'tstz', type: 'timestamptz' }]);
    await fake.stop();
  });

  it('a 429 on a partition is waited out and the read completes, every partition once', async () => {
    fake = await startFake({ partitionRows: 100, throttlePartitions: true });
    const source = new SnowflakeSource('wh', settings(fake, { partitionConcurrency: 4 }), FAST_RETRY);
    const { rows } = await readAll(source, 'SELECT i FROM range(1000) t(i) ORDER BY i');
    expect(rows.map((r) => r.i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const partitionAnswers = fake.server.log.filter((r) => r.query.has('partition'));
    expect(partitionAnswers.filter((r) => r.status === 429)).toHaveLength(9);
    expect(partitionAnswers.filter((r) => r.status === 200).map((r) => Number(r.query.get('partition'))).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await fake.stop();
  });

  it('fetches partitions in parallel, at most partitionConcurrency at a time', async () => {
    fake = await startFake({ partitionRows: 100, latencyMs: 10 });
    let inFlight = 0;
    let most = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
      const partition = String(args[0]).includes('partition=');
      if (partition) most = Math.max(most, ++inFlight);
      try { return await realFetch(...args); } finally { if (partition) inFlight--; }
    }) as typeof fetch;
    try {
      const source = new SnowflakeSource('wh', settings(fake, { partitionConcurrency: 3 }), FAST_RETRY);
      expect((await readAll(source, 'SELECT i FROM range(1000) t(i) ORDER BY i')).rows).toHaveLength(1000);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(most).toBe(3);
    await fake.stop();
  });
});

describe('Snowflake values (the SQL API\'s jsonv2 encoding)', () => {
  const convert = (type: string, text: string, scale?: number) => snowflakeColumn({ name: 'x', type, scale }).convert(text);

  it('decodes each type as the docs describe it', () => {
    expect(convert('DATE', '19783')).toBe('2024-03-01');
    expect(convert('DATE', '-1')).toBe('1969-12-31');
    expect(convert('TIME', '45296.123456789')).toBe('12:34:56.123456');
    expect(convert('TIMESTAMP_NTZ', '1709294400.000001000')).toBe('2024-03-01T12:00:00.000001');
    expect(convert('TIMESTAMP_LTZ', '1709287200.123456000')).toBe('2024-03-01T10:00:00.123456Z');
    expect(convert('TIMESTAMP_TZ', '1709287200.123456000 1560')).toBe('2024-03-01T10:00:00.123456Z');
    expect(convert('TIMESTAMP_NTZ', '-0.500000000')).toBe('1969-12-31T23:59:59.500000');
    expect(convert('FIXED', '9007199254740993', 0)).toBe(9007199254740993n);
    expect(convert('FIXED', '12', 0)).toBe(12);
    expect(convert('FIXED', '-0.0010', 4)).toBe('-0.0010');
    expect(convert('REAL', 'inf')).toBe(Infinity);
    expect(convert('BOOLEAN', 'false')).toBe(false);
    expect(convert('VARIANT', '{\n  "a": 1\n}')).toEqual({ a: 1 });
    expect(convert('GEOGRAPHY', 'POINT(1 2)')).toBe('POINT(1 2)');
  });
});

const pgUp = await needService('postgres');

describe.skipIf(!pgUp)('Snowflake and Postgres: the same values fingerprint the same (recipe v1)', () => {
  it('gives the canonical row the same fingerprint from either source', async () => {
    const fake = await startFake();
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    const snowflake = new SnowflakeSource('wh', settings(fake), FAST_RETRY);
    const postgres = postgresSourceType.create({ name: 'db', type: 'postgres', url: SERVICES.postgres.url }, '/') as Source;
    try {
      await admin.query(`DROP TABLE IF EXISTS lm_sf_canonical; CREATE TABLE lm_sf_canonical (id int, big int8, dec numeric(18,4), tstz timestamptz,
        ts timestamp, d date, flag boolean, doc jsonb, nothing text, label text);
        INSERT INTO lm_sf_canonical VALUES (1, 9007199254740993, 12345678901234.5678, '2024-03-01 12:00:00.123456+02',
        '2024-03-01 12:00:00.000001', '2024-03-01', true, '{"a":[1,2],"b":"x"}', NULL, 'héllo "world"')`);
      const fromSnowflake = await readAll(snowflake, 'SELECT * FROM canonical');
      const fromPostgres = await readAll(postgres, 'SELECT * FROM lm_sf_canonical');
      const fingerprint = (read: typeof fromPostgres) => fingerprintRow('mapping-1', read.columns, read.rows[0]!);
      expect(fingerprint(fromSnowflake)).toBe(fingerprint(fromPostgres));
      expect(fromSnowflake.rows).toEqual(fromPostgres.rows);
    } finally {
      await admin.query('DROP TABLE IF EXISTS lm_sf_canonical');
      await admin.end();
      await postgres.close();
      await fake.stop();
    }
  });
});
