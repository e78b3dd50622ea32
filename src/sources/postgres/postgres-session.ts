import type pg from 'pg';
import type { Value } from '../source.ts';
import type { WarehouseDialect, WarehouseSession } from '../../diff/warehouse/warehouse-session.ts';
import { postgresDialect } from '../../diff/warehouse/postgres-dialect.ts';
import { toPgParam } from './postgres-values.ts';

/**
 * Statements on a Postgres (or Redshift: the same wire protocol) source's pool, for a diff that
 * runs in the database (see warehouse-session.ts).
 */
export function postgresSession(connect: () => Promise<pg.PoolClient>, dialect: WarehouseDialect = postgresDialect): WarehouseSession {
  const runOn = (client: pg.PoolClient) => async (sql: string, params: Value[] = []) =>
    (await client.query(sql, params.map(toPgParam) as unknown[])).rows as Record<string, unknown>[];
  return {
    dialect,
    async run(sql, params) {
      const client = await connect();
      try {
        return await runOn(client)(sql, params);
      } finally {
        client.release();
      }
    },
    async transaction(work) {
      const client = await connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(runOn(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        broken = error instanceof Error ? error : new Error(String(error));
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: async () => undefined, // the source owns the pool
  };
}
