import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change, RecordResult } from '../../../src/destinations/destination.ts';
import { deliver } from '../../../src/delivery/deliver.ts';
import { postgresDestinationType } from '../../../src/destinations/postgres/postgres-type.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { change, createDestination, makeSync } from '../destination-test-kit.ts';

const up = await needService('postgres');
const SCHEMA = 'lm_pgdlv';

describe.skipIf(!up)('postgres destination through deliver()', () => {
  let admin: pg.Client;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
    await admin.query(`CREATE TABLE ${SCHEMA}.items (id int PRIMARY KEY, code varchar(10) NOT NULL, qty int)`);
  });
  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin?.end();
  });

  it('1,000 upserts with 2 bad rows: exactly those 2 are rejected with their SQLSTATE and column, 998 arrive', async () => {
    const destination = createDestination(postgresDestinationType, { url: SERVICES.postgres.url },
      makeSync('pg_delivery', 'upsert', ['id'], ['id', 'code', 'qty'], { table: `${SCHEMA}.items` }));
    const changes: Change[] = Array.from({ length: 1_000 }, (_, i) => change('upsert', i, ['id'], {
      id: i, code: i === 137 ? 'far too long for ten' : i === 802 ? null : `c${i}`, qty: i,
    }));
    async function* stream() { yield changes.slice(0, 600); yield changes.slice(600); }
    const settled: RecordResult[] = [];
    const stats = await deliver(stream(), { destination, batchSize: 1_000, signal: new AbortController().signal }, {
      onSettled: async (_batch, results) => void settled.push(...results),
      trace: () => {},
    }).finally(() => destination.close());

    const rejected = settled.filter((r) => r.outcome === 'rejected');
    expect(rejected.map((r) => r.outcome === 'rejected' && { key: r.key, code: r.rejection.code, field: r.rejection.field, category: r.rejection.category, retryable: r.rejection.retryable }))
      .toEqual([
        { key: '137', code: '22001', field: 'code', category: 'schema_mismatch', retryable: false },
        { key: '802', code: '23502', field: 'code', category: 'invalid_row', retryable: false },
      ]);
    expect(settled.filter((r) => r.outcome === 'delivered')).toHaveLength(998);
    expect(stats).toMatchObject({ delivered: 998, rejected: 2 });
    const [{ n, missing }] = (await admin.query(`SELECT count(*)::int AS n, array_agg(g) FILTER (WHERE i.id IS NULL) AS missing
      FROM generate_series(0, 999) g LEFT JOIN ${SCHEMA}.items i ON i.id = g`)).rows;
    expect({ n, missing }).toEqual({ n: 1_000, missing: [137, 802] });
  });
});
