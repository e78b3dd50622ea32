import pg from 'pg';
import { describe } from 'vitest';
import type { Value } from '../../../src/sources/source.ts';
import { postgresDestinationType } from '../../../src/destinations/postgres/postgres-type.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { createDestination, makeSync } from '../destination-test-kit.ts';

const up = await needService('postgres');
const SCHEMA = 'lm_pgconf';
const url = SERVICES.postgres.url;

describe.skipIf(!up)('postgres', () => {
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  let ready: Promise<unknown> | undefined;
  const setup = () => (ready ??= admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA};
    CREATE TABLE ${SCHEMA}.items (id text PRIMARY KEY, name varchar(40), amount int)`));

  destinationConformance({
    name: 'postgres',
    async create(mode) {
      await setup();
      return createDestination(postgresDestinationType, { url }, makeSync(`pg_conf_${mode}`, mode, ['id'], ['id', 'name', 'amount'], { table: `${SCHEMA}.items` }));
    },
    async read() {
      const { rows } = await admin.query<{ id: string; name: string; amount: number }>(`SELECT id, name, amount FROM ${SCHEMA}.items`);
      return new Map<string, Record<string, Value>>(rows.map((row) => [row.id, row]));
    },
    badChange: () => ({ key: 'bad', op: 'upsert', match: { id: 'lm-conf-bad' }, fields: { id: 'lm-conf-bad', name: 'x'.repeat(41), amount: 1 } }),
    async cleanup() {
      await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
      await admin.end();
    },
  });
});
