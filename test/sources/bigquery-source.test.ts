import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigquerySourceType, type BigquerySettings } from '../../src/sources/bigquery/bigquery-type.ts';
import { BigquerySource } from '../../src/sources/bigquery/bigquery-source.ts';
import { bigqueryColumn, floatSecondsToMicros } from '../../src/sources/bigquery/bigquery-values.ts';
import { postgresSourceType } from '../../src/sources/postgres/postgres-type.ts';
import { fingerprintRow } from '../../src/diff/fingerprint/fingerprint-v1.ts';
import type { Source } from '../../src/sources/source.ts';
import { BigqueryFake, backquotesToDoubleQuotes } from '../fakes/bigquery/bigquery-fake.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { expectBoundedChunks, expectCanonicalRow, expectStagedRoundTrip, readAll, readModelIds } from './source-conformance.ts';

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const KEY_FILE = {
  type: 'service_account', project_id: 'acme-analytics', private_key_id: 'k1', client_email: 'lastmile@acme-analytics.iam.gserviceaccount.com',
  private_key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};
const FAST_RETRY = { attempts: 4, backoff: { baseMs: 1, capMs: 5 } };
const TABLES = `CREATE TABLE canonical ("id" INTEGER, "big" BIGINT, "dec" DECIMAL(18,4), "tstz" TIMESTAMPTZ, "ts" TIMESTAMP,
  "d" DATE, "flag" BOOLEAN, "doc" JSON, "nothing" VARCHAR, "label" VARCHAR);
  INSERT INTO canonical VALUES (1, 9007199254740993, 12345678901234.5678, '2024-03-01 12:00:00.123456+02',
  '2024-03-01 12:00:00.000001', '2024-03-01', true, '{"a":[1,2],"b":"x"}', NULL, 'héllo "world"');
  CREATE TABLE events ("id" INTEGER, "updated_at" TIMESTAMPTZ, "note" VARCHAR);
  INSERT INTO events SELECT i, TIMESTAMPTZ '2024-03-01 10:00:00+00' + i * INTERVAL 1 MICROSECOND, 'n' || i FROM range(1, 6) t(i);`;

async function startFake(options: Partial<ConstructorParameters<typeof BigqueryFake>[0]> = {}): Promise<BigqueryFake> {
  const fake = await new BigqueryFake({ project: 'acme-analytics', clientEmail: KEY_FILE.client_email, publicKey: keys.publicKey, privateKeyId: 'k1', ...options }).start();
  await fake.engine.run(TABLES);
  return fake;
}

function settings(fake: BigqueryFake, extra: Partial<BigquerySettings> = {}): BigquerySettings {
  return { credentials: JSON.stringify(KEY_FILE), url: fake.url, tokenUrl: fake.tokenUrl, location: 'US', ...extra };
}

describe('BigQuery source (REST API v2, against the fake)', () => {
  let fake: BigqueryFake;
  let source: BigquerySource;

  beforeAll(async () => {
    fake = await startFake({ pageRows: 600 });
    source = new BigquerySource('bq', settings(fake), FAST_RETRY);
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
    await expectStagedRoundTrip(source, `SELECT TIME '23:59:59.999999' AS tm, [1, 2] AS ints, {'k': 'v', 'n': [1.5]} AS rec,
      '\\x00\\xFF'::BLOB AS bin, 1.5::DOUBLE AS dbl, TIMESTAMPTZ '1969-12-31 23:59:59.5+00' AS before_epoch`);
  });

  it('reads every page by pageToken, in order, in chunks of at most chunkSize rows', async () => {
    const before = fake.server.log.length;
    await expectBoundedChunks(source, 'SELECT i, md5(i::VARCHAR) AS h FROM range(5000) t(i)', 5000, 777);
    const gets = fake.server.log.slice(before).filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(8); // 9 pages of 600; the first came with jobs.query
    expect(gets.every((r) => r.query.has('pageToken') && r.path.startsWith('/bigquery/v2/projects/acme-analytics/queries/job_'))).toBe(true);
    const { rows } = await readAll(source, 'SELECT i FROM range(5000) t(i) ORDER BY i', 1000);
    expect(rows.map((r) => r.i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('reads REPEATED and RECORD as JSON values, BYTES, TIME, FLOAT64, DATETIME, BIGNUMERIC', async () => {
    const { rows, columns } = await readAll(source, `SELECT TIME '23:59:59.999999' AS tm, [1, 2] AS ints, {'k': 'v', 'n': [1.5::DOUBLE], 'd': DATE '2024-03-01'} AS rec,
      '\\x00\\xFF'::BLOB AS bin, 1.5::DOUBLE AS dbl, TIMESTAMP '1969-12-31 23:59:59.5' AS dt, 1.50::DECIMAL(38,20) AS wide, NULL::INTEGER[] AS none`);
    expect(rows).toEqual([{ tm: '23:59:59.999999', ints: [1, 2], rec: { k: 'v', n: [1.5], d: '2024-03-01' }, bin: new Uint8Array([0, 255]), dbl: 1.5,
      dt: '1969-12-31T23:59:59.500000', wide: '1.5', none: null }]);
    expect(columns.map((c) => c.type)).toEqual(['time', 'json', 'json', 'blob', 'double', 'timestamp', 'decimal', 'json']);
  });

  it('yields one empty chunk with columns for an empty result', async () => {
    const result = await readAll(source, 'SELECT 1::BIGINT AS a WHERE false');
    expect(result.chunkSizes).toEqual([0]);
    expect(result.columns).toEqual([{ name: 'a', type: 'bigint' }]);
  });

  it('sends parameters as positional queryParameters, never pasted into the SQL', async () => {
    const sql = `SELECT ${source.quoteIdentifier('id')} FROM (${source.tableQuery('events')}) m WHERE ${source.quoteIdentifier('updated_at')} > ${source.placeholder(1)} ORDER BY 1`;
    expect(sql).toContain('`events`');
    expect((await readAll(source, sql, 100, ['2024-03-01T10:00:00.000003Z'])).rows).toEqual([{ id: 4 }, { id: 5 }]);
    expect((await readAll(source, 'SELECT count(*) AS n FROM events WHERE `note` = ?', 100, ["n1' OR '1'='1"])).rows).toEqual([{ n: 0 }]);
    expect((await readAll(source, 'SELECT ? + 0 AS big', 10, [9007199254740993n])).rows).toEqual([{ big: 9007199254740993n }]);
    const submit = JSON.parse(fake.server.log.filter((r) => r.method === 'POST' && r.path.endsWith('/queries')).at(-1)!.body);
    expect(submit).toMatchObject({ useLegacySql: false, parameterMode: 'POSITIONAL', location: 'US',
      queryParameters: [{ parameterType: { type: 'INT64' }, parameterValue: { value: '9007199254740993' } }] });
  });

  it('a run reads the model; in cursor mode only the rows at or past the mark', async () => {
    const model = { name: 'events', source: 'bq', table: 'events', primaryKey: ['id'], cursor: 'updated_at' };
    expect(await readModelIds(source, model as never, null)).toEqual([1, 2, 3, 4, 5]);
    expect(await readModelIds(source, model as never, '2024-03-01T10:00:00.000003Z')).toEqual([3, 4, 5]);
  });

  it('signs in as the service account: an RS256 JWT for the token URI, exchanged once for a token', async () => {
    const tokenRequests = fake.server.requestsTo('/token');
    expect(tokenRequests).toHaveLength(1);
    const form = new URLSearchParams(tokenRequests[0]!.body);
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const assertion = form.get('assertion')!;
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'RS256', kid: 'k1' });
    const claims = decodeJwt(assertion);
    expect(claims).toMatchObject({ iss: KEY_FILE.client_email, aud: fake.tokenUrl, scope: 'https://www.googleapis.com/auth/bigquery.readonly' });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(3600);
    expect(fake.server.log.at(-1)!.headers.authorization).toMatch(/^Bearer ya29\.fake-/);
  });

  it('a query error names the source and carries BigQuery\'s reason and message', async () => {
    await expect(readAll(source, 'SELECT * FROM no_such_table')).rejects.toThrow(/^source "bq": the query failed: BigQuery answered 404 notFound: Not found: .*no_such_table/);
    await expect(readAll(source, 'SELEC 1')).rejects.toThrow(/^source "bq": the query failed: BigQuery answered 400 invalidQuery: /);
  });

  it('an abort mid-read stops it and cancels the job; the source stays usable', async () => {
    const controller = new AbortController();
    const read = async () => {
      for await (const _ of source.read('SELECT i FROM range(5000) t(i)', { chunkSize: 10, signal: controller.signal })) controller.abort(new Error('stopped by test'));
    };
    await expect(read()).rejects.toThrow('stopped by test');
    await expect.poll(() => fake.cancelled().length).toBe(1);
    expect(fake.server.log.some((r) => /^\/bigquery\/v2\/projects\/acme-analytics\/jobs\/job_\w+\/cancel$/.test(r.path) && r.query.get('location') === 'US')).toBe(true);
    await expect(source.check(new AbortController().signal)).resolves.toBeUndefined();
  });

  it('a key that is not a service account key file is an error saying so', async () => {
    const broken = new BigquerySource('bq', settings(fake, { credentials: 'not json' }), FAST_RETRY);
    await expect(readAll(broken, 'SELECT 1 AS a')).rejects.toThrow(/^source "bq": credentials is not the JSON of a service account key file; check credentials$/);
  });

  it('settings: a service account key, as JSON text or fields', () => {
    expect(bigquerySourceType.settings.safeParse({ credentials: '{"client_email":"a","private_key":"b"}' }).success).toBe(true);
    expect(bigquerySourceType.settings.safeParse({ credentials: { client_email: 'a', private_key: 'b' }, project: 'p' }).success).toBe(true);
    expect(bigquerySourceType.settings.safeParse({ credentials: { client_email: 'a' } }).success).toBe(false);
    expect(bigquerySourceType.secretSettings).toEqual(['credentials']);
  });
});

describe('BigQuery source: jobs, retries and auth', () => {
  let fake: BigqueryFake;
  afterAll(async () => fake?.stop());

  it('polls getQueryResults while jobComplete is false', async () => {
    fake = await startFake({ pendingPolls: 3 });
    const source = new BigquerySource('bq', settings(fake), FAST_RETRY);
    expect((await readAll(source, 'SELECT 42 AS answer')).rows).toEqual([{ answer: 42 }]);
    const api = fake.server.log.filter((r) => r.path !== '/token');
    expect(api.map((r) => r.method)).toEqual(['POST', 'GET', 'GET', 'GET']);
    expect(api[1]!.query.get('location')).toBe('US');
    await fake.stop();
  });

  it('retries 429, 5xx and 403 rateLimitExceeded; the retried jobs.query keeps its requestId and runs once', async () => {
    fake = await startFake();
    const source = new BigquerySource('bq', settings(fake), FAST_RETRY);
    await source.check(new AbortController().signal);
    const ran = fake.executions;
    fake.server.inject(
      { status: 429, body: { error: { code: 429, message: 'Too many requests', errors: [{ reason: 'rateLimitExceeded' }], status: 'RESOURCE_EXHAUSTED' } } },
      { status: 503, body: { error: { code: 503, message: 'Service unavailable', errors: [{ reason: 'backendError' }], status: 'UNAVAILABLE' } } },
      { status: 403, body: { error: { code: 403, message: 'Exceeded rate limits', errors: [{ reason: 'rateLimitExceeded' }], status: 'PERMISSION_DENIED' } } },
    );
    expect((await readAll(source, 'SELECT 7 AS n')).rows).toEqual([{ n: 7 }]);
    const submits = fake.server.log.filter((r) => r.method === 'POST' && r.path.endsWith('/queries')).slice(-4);
    expect(submits.map((r) => r.status)).toEqual([429, 503, 403, 200]);
    expect(new Set(submits.map((r) => JSON.parse(r.body).requestId)).size).toBe(1);
    expect(fake.executions).toBe(ran + 1);
    await fake.stop();
  });

  it('a 403 rateLimitExceeded on a page is waited out and the read completes, every page once', async () => {
    fake = await startFake({ pageRows: 100, throttlePages: true });
    const source = new BigquerySource('bq', settings(fake), FAST_RETRY);
    const { rows } = await readAll(source, 'SELECT i FROM range(1000) t(i) ORDER BY i');
    expect(rows.map((r) => r.i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const pages = fake.server.log.filter((r) => r.method === 'GET');
    expect(pages.filter((r) => r.status === 403)).toHaveLength(9);
    expect(pages.filter((r) => r.status === 200)).toHaveLength(9);
    await fake.stop();
  });

  it('a 403 quotaExceeded is not retried', async () => {
    fake = await startFake();
    const source = new BigquerySource('bq', settings(fake), FAST_RETRY);
    await source.check(new AbortController().signal);
    fake.server.inject({ status: 403, body: { error: { code: 403, message: 'Quota exceeded: Your project exceeded quota for free query bytes scanned.', errors: [{ reason: 'quotaExceeded' }], status: 'PERMISSION_DENIED' } } });
    await expect(readAll(source, 'SELECT 1 AS a')).rejects.toThrow(/^source "bq": the query failed: BigQuery answered 403 quotaExceeded: Quota exceeded/);
    await fake.stop();
  });

  it('signs in again once when BigQuery calls its token invalid', async () => {
    fake = await startFake();
    const source = new BigquerySource('bq', settings(fake), FAST_RETRY);
    await source.check(new AbortController().signal);
    fake.revokeTokens();
    expect((await readAll(source, 'SELECT 1 AS a')).rows).toEqual([{ a: 1 }]);
    expect(fake.server.requestsTo('/token')).toHaveLength(2);
    await fake.stop();
  });

  it('a key the token endpoint refuses is an error naming the service account and what to check', async () => {
    fake = await startFake();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const source = new BigquerySource('bq', settings(fake, { credentials: { ...KEY_FILE, private_key: other } }), FAST_RETRY);
    await expect(source.check(new AbortController().signal)).rejects.toThrow(
      /^source "bq": Google refused the service account lastmile@acme-analytics\.iam\.gserviceaccount\.com at http:\/\/127\.0\.0\.1:\d+\/token \(400 invalid_grant: Invalid JWT Signature\.\); check credentials$/);
    await fake.stop();
  });
});

describe('BigQuery values (the REST API\'s encoding)', () => {
  it('reads TIMESTAMP seconds written as a float exactly, to the microsecond', () => {
    expect(floatSecondsToMicros('1.709287200123456E9')).toBe(1709287200123456);
    expect(floatSecondsToMicros('1.7092872001234559E9')).toBe(1709287200123456); // a double's nearest text rounds back
    expect(floatSecondsToMicros('1709287200')).toBe(1709287200000000);
    expect(floatSecondsToMicros('-0.5')).toBe(-500000);
    expect(floatSecondsToMicros('1.0E-6')).toBe(1);
    const ts = bigqueryColumn({ name: 't', type: 'TIMESTAMP' });
    expect(ts.column.type).toBe('timestamptz');
    expect(ts.convert('1.709287200123456E9')).toBe('2024-03-01T10:00:00.123456Z');
  });

  it('reads nested REPEATED RECORDs by the schema', () => {
    const { convert } = bigqueryColumn({ name: 'r', type: 'RECORD', mode: 'REPEATED', fields: [
      { name: 'n', type: 'INTEGER' }, { name: 'at', type: 'TIMESTAMP' }, { name: 'tags', type: 'STRING', mode: 'REPEATED' }] });
    expect(convert([{ v: { f: [{ v: '9007199254740993' }, { v: '0.0' }, { v: [{ v: 'a' }] }] } }, { v: { f: [{ v: null }, { v: null }, { v: [] }] } }]))
      .toEqual([{ n: 9007199254740993n, at: '1970-01-01T00:00:00.000000Z', tags: ['a'] }, { n: null, at: null, tags: [] }]);
  });

  it('the fake rewrites backquoted identifiers only outside string literals', () => {
    expect(backquotesToDoubleQuotes("SELECT `a b`, '`x`' FROM `p`.`d`.`t` WHERE `c\\`` = 1")).toBe(`SELECT "a b", '\`x\`' FROM "p"."d"."t" WHERE "c\`" = 1`);
  });
});

const pgUp = await needService('postgres');

describe.skipIf(!pgUp)('BigQuery and Postgres: the same values fingerprint the same (recipe v1)', () => {
  it('gives the canonical row the same fingerprint from either source', async () => {
    const fake = await startFake();
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    const bigquery = new BigquerySource('bq', settings(fake), FAST_RETRY);
    const postgres = postgresSourceType.create({ name: 'db', type: 'postgres', url: SERVICES.postgres.url }, '/') as Source;
    try {
      await admin.query(`DROP TABLE IF EXISTS lm_bq_canonical; CREATE TABLE lm_bq_canonical (id int, big int8, dec numeric(18,4), tstz timestamptz,
        ts timestamp, d date, flag boolean, doc jsonb, nothing text, label text);
        INSERT INTO lm_bq_canonical VALUES (1, 9007199254740993, 12345678901234.5678, '2024-03-01 12:00:00.123456+02',
        '2024-03-01 12:00:00.000001', '2024-03-01', true, '{"a":[1,2],"b":"x"}', NULL, 'héllo "world"')`);
      const fromBigquery = await readAll(bigquery, 'SELECT * FROM canonical');
      const fromPostgres = await readAll(postgres, 'SELECT * FROM lm_bq_canonical');
      const fingerprint = (read: typeof fromPostgres) => fingerprintRow('mapping-1', read.columns, read.rows[0]!);
      expect(fingerprint(fromBigquery)).toBe(fingerprint(fromPostgres));
      expect(fromBigquery.rows).toEqual(fromPostgres.rows);
    } finally {
      await admin.query('DROP TABLE IF EXISTS lm_bq_canonical');
      await admin.end();
      await postgres.close();
      await fake.stop();
    }
  });
});
