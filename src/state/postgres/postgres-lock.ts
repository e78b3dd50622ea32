import type pg from 'pg';
import type { Lock } from '../state-store.ts';
import { isStale, lockHeldError, lockLostError, me, startHeartbeat, type LockHolder, type LockTiming } from '../lock-holder.ts';
import { quoteIdent } from '../row-state-sql.ts';
import { inTransaction } from './postgres-transaction.ts';

/**
 * One run per sync across every process and host sharing the database: a row in `locks`
 * with its holder and a heartbeat stamped by the database clock (hosts' clocks may differ).
 * A row whose process died, or whose heartbeat stopped, is taken over.
 */
export async function acquirePostgresLock(
  pool: pg.Pool, schema: string, sync: string, runId: string, timing: LockTiming,
): Promise<Lock & { holder: LockHolder }> {
  const table = `${quoteIdent(schema)}.locks`;
  const holder = me(sync, runId);
  await inTransaction(pool, async (client) => {
    const inserted = await client.query(
      `INSERT INTO ${table} (sync, run_id, pid, host, heartbeat_at) VALUES ($1, $2, $3, $4, now()) ON CONFLICT (sync) DO NOTHING`,
      [sync, runId, holder.pid, holder.host]);
    if (inserted.rowCount === 1) return;
    const { rows } = await client.query<{ run_id: string; pid: number; host: string; age_ms: number }>(
      `SELECT run_id, pid, host, (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age_ms
       FROM ${table} WHERE sync = $1 FOR UPDATE`, [sync]);
    const row = rows[0];
    const current = { sync, runId: row.run_id, pid: row.pid, host: row.host, heartbeatAt: Date.now() - row.age_ms };
    if (!isStale(current, timing)) throw lockHeldError(current);
    await client.query(`UPDATE ${table} SET run_id = $2, pid = $3, host = $4, heartbeat_at = now() WHERE sync = $1`,
      [sync, runId, holder.pid, holder.host]);
  });

  const mine = 'sync = $1 AND run_id = $2 AND pid = $3 AND host = $4';
  const params = [sync, runId, holder.pid, holder.host];
  const stop = startHeartbeat(() => pool.query(`UPDATE ${table} SET heartbeat_at = now() WHERE ${mine}`, params), timing.heartbeatMs);
  let released = false;
  return {
    holder,
    async release() {
      if (released) return;
      released = true;
      stop();
      await pool.query(`DELETE FROM ${table} WHERE ${mine}`, params);
    },
  };
}

/**
 * Inside a writing transaction: throws when `holder` no longer owns the lock row, and keeps
 * the row from being taken over until the transaction ends.
 */
export async function assertPostgresLockHeld(client: pg.PoolClient, schema: string, holder: LockHolder): Promise<void> {
  const { rowCount } = await client.query(
    `SELECT 1 FROM ${quoteIdent(schema)}.locks WHERE sync = $1 AND run_id = $2 AND pid = $3 AND host = $4 FOR SHARE`,
    [holder.sync, holder.runId, holder.pid, holder.host]);
  if (rowCount !== 1) throw lockLostError(holder);
}
