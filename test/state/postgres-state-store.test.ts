import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import { PostgresStateStore } from '../../src/state/postgres/postgres-state-store.ts';
import { SERVICES, needService } from '../helpers/services.ts';
import { stateStoreConformance } from '../conformance/state-store-conformance.ts';

const up = await needService('postgres');
const schema = `lm_state_test_${randomBytes(4).toString('hex')}`;
const url = SERVICES.postgres.url;

describe.skipIf(!up)('postgres state store', () => {
  stateStoreConformance(
    'postgres',
    async () => ({
      spec: `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`,
      open: (options) => PostgresStateStore.open(url, { ...options, schema }),
    }),
    async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  );
});
