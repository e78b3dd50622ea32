import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change, RecordResult } from '../../../src/destinations/destination.ts';
import { deliver } from '../../../src/delivery/deliver.ts';
import { mysqlDestinationType } from '../../../src/destinations/mysql/mysql-type.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { change, createDestination, makeSync } from '../destination-test-kit.ts';

const up = await needService('mariadb');
const DB = 'lm_mydlv';

describe.skipIf(!up)('mysql destination through deliver()', () => {
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: SERVICES.mariadb.url, multipleStatements: true });
    await admin.query(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
    await admin.query(`CREATE TABLE ${DB}.items (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL, qty INT)`);
  });
  afterAll(async () => {
    await admin?.query(`DROP DATABASE IF EXISTS ${DB}`);
    await admin?.end();
  });

  it('1,000 upserts with 2 bad rows: exactly those 2 are rejected with their server code and column, 998 arrive', async () => {
    const destination = createDestination(mysqlDestinationType, { url: SERVICES.mariadb.url },
      makeSync('my_delivery', 'upsert', ['id'], ['id', 'code', 'qty'], { table: { schema: DB, table: 'items' } }));
    const changes: Change[] = Array.from({ length: 1_000 }, (_, i) => change('upsert', i, ['id'], {
      id: i, code: i === 137 ? 'far too long for ten' : `c${i}`, qty: i === 802 ? 'not a number' : i,
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
        { key: '137', code: 'ER_DATA_TOO_LONG', field: 'code', category: 'schema_mismatch', retryable: false },
        { key: '802', code: 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', field: 'qty', category: 'schema_mismatch', retryable: false },
      ]);
    expect(settled.filter((r) => r.outcome === 'delivered')).toHaveLength(998);
    expect(stats).toMatchObject({ delivered: 998, rejected: 2 });
    const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT count(*) AS n, sum(id) AS total FROM ${DB}.items`);
    expect({ n: rows[0]!.n, total: Number(rows[0]!.total) }).toEqual({ n: 998, total: 499_500 - 137 - 802 });
  });
});
