import type Database from 'better-sqlite3';
import type { Lock } from '../state-store.ts';
import { isStale, lockHeldError, lockLostError, me, startHeartbeat, type LockHolder, type LockTiming } from '../lock-holder.ts';

interface LockRow { sync: string; run_id: string; pid: number; host: string; heartbeat_at: number }

/** One run per sync: a row in `locks`, taken in an IMMEDIATE transaction, kept fresh by a heartbeat. */
export function acquireSqliteLock(db: Database.Database, sync: string, runId: string, timing: LockTiming): Lock & { holder: LockHolder } {
  const holder = me(sync, runId);
  const take = db.transaction(() => {
    const row = db.prepare('SELECT sync, run_id, pid, host, heartbeat_at FROM locks WHERE sync = ?').get(sync) as LockRow | undefined;
    if (row) {
      const current: LockHolder = { sync, runId: row.run_id, pid: row.pid, host: row.host, heartbeatAt: row.heartbeat_at };
      if (!isStale(current, timing)) throw lockHeldError(current);
    }
    db.prepare(
      `INSERT INTO locks (sync, run_id, pid, host, heartbeat_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (sync) DO UPDATE SET run_id = excluded.run_id, pid = excluded.pid, host = excluded.host, heartbeat_at = excluded.heartbeat_at`,
    ).run(sync, runId, holder.pid, holder.host, Date.now());
  });
  take.immediate();

  const mine = 'sync = ? AND run_id = ? AND pid = ?';
  const stop = startHeartbeat(
    () => db.open && db.prepare(`UPDATE locks SET heartbeat_at = ? WHERE ${mine}`).run(Date.now(), sync, runId, holder.pid),
    timing.heartbeatMs,
  );
  let released = false;
  return {
    holder,
    async release() {
      if (released) return;
      released = true;
      stop();
      if (db.open) db.prepare(`DELETE FROM locks WHERE ${mine}`).run(sync, runId, holder.pid);
    },
  };
}

/** Throws when `holder`'s lock row was taken over by another run. */
export function assertSqliteLockHeld(db: Database.Database, holder: LockHolder): void {
  const row = db.prepare('SELECT 1 FROM locks WHERE sync = ? AND run_id = ? AND pid = ? AND host = ?')
    .get(holder.sync, holder.runId, holder.pid, holder.host);
  if (!row) throw lockLostError(holder);
}
