import mysql from 'mysql2/promise';
import { describe } from 'vitest';
import type { Value } from '../../../src/sources/source.ts';
import { mysqlDestinationType } from '../../../src/destinations/mysql/mysql-type.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { createDestination, makeSync } from '../destination-test-kit.ts';

const up = await needService('mariadb');
const DB = 'lm_myconf';
const url = SERVICES.mariadb.url;

describe.skipIf(!up)('mysql', () => {
  const admin = mysql.createPool({ uri: url, connectionLimit: 1, multipleStatements: true });
  let ready: Promise<unknown> | undefined;
  const setup = () => (ready ??= admin.query(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB};
    CREATE TABLE ${DB}.items (id VARCHAR(100) PRIMARY KEY, name VARCHAR(40), amount INT)`));

  destinationConformance({
    name: 'mysql (MariaDB)',
    async create(mode) {
      await setup();
      return createDestination(mysqlDestinationType, { url }, makeSync(`my_conf_${mode}`, mode, ['id'], ['id', 'name', 'amount'], { table: { schema: DB, table: 'items' } }));
    },
    async read() {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT id, name, amount FROM ${DB}.items`);
      return new Map<string, Record<string, Value>>(rows.map((row) => [row.id as string, { name: row.name, amount: row.amount }]));
    },
    badChange: () => ({ key: 'bad', op: 'upsert', match: { id: 'lm-conf-bad' }, fields: { id: 'lm-conf-bad', name: 'x'.repeat(41), amount: 1 } }),
    async cleanup() {
      await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
      await admin.end();
    },
  });
});
