import type mysql from 'mysql2';
import type { Value } from '../source.ts';
import type { WarehouseSession } from '../../diff/warehouse/warehouse-session.ts';
import { mysqlDialect } from '../../diff/warehouse/mysql-dialect.ts';
import { toMysqlParam } from './mysql-values.ts';

/** Statements on a MySQL source's pool, for a diff that runs in the database (see warehouse-session.ts). */
export function mysqlSession(connect: () => Promise<mysql.PoolConnection>): WarehouseSession {
  const runOn = (connection: mysql.PoolConnection) => (sql: string, params: Value[] = []) =>
    new Promise<Record<string, unknown>[]>((resolve, reject) => {
      connection.query({ sql, values: params.map(toMysqlParam) }, (error, rows) => {
        if (error) reject(error);
        else resolve(Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []);
      });
    });
  return {
    dialect: mysqlDialect,
    async run(sql, params) {
      const connection = await connect();
      try {
        return await runOn(connection)(sql, params);
      } finally {
        connection.release();
      }
    },
    async transaction(work) {
      const connection = await connect();
      const run = runOn(connection);
      let broken = false;
      try {
        await run('START TRANSACTION');
        const result = await work(run);
        await run('COMMIT');
        return result;
      } catch (error) {
        broken = true;
        await run('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        if (broken) connection.destroy();
        else connection.release();
      }
    },
    close: async () => undefined, // the source owns the pool
  };
}
