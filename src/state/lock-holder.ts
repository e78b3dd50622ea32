import os from 'node:os';
import { RunError } from '../errors.ts';

/** Who holds a sync's run lock. The holder refreshes `heartbeatAt` while its run lives. */
export interface LockHolder {
  sync: string;
  runId: string;
  pid: number;
  host: string;
  /** Milliseconds since the epoch. */
  heartbeatAt: number;
}

export interface LockTiming {
  /** How often a holder refreshes its heartbeat. */
  heartbeatMs: number;
  /** A heartbeat older than this means the holder is dead or hung: its lock is taken over. */
  staleAfterMs: number;
}

export const DEFAULT_LOCK_TIMING: LockTiming = { heartbeatMs: 10_000, staleAfterMs: 60_000 };

export function me(sync: string, runId: string): LockHolder {
  return { sync, runId, pid: process.pid, host: os.hostname(), heartbeatAt: Date.now() };
}

/** A lock is stale when its process is gone from this host, or its heartbeat stopped. */
export function isStale(holder: LockHolder, timing: LockTiming, now = Date.now()): boolean {
  if (now - holder.heartbeatAt > timing.staleAfterMs) return true;
  return holder.host === os.hostname() && !pidAlive(holder.pid);
}

export function lockHeldError(holder: LockHolder, now = Date.now()): RunError {
  const ago = Math.max(0, Math.round((now - holder.heartbeatAt) / 1000));
  return new RunError(
    `sync "${holder.sync}" is already running: run ${holder.runId} holds its lock (pid ${holder.pid} on ${holder.host}, ` +
      `last heartbeat ${ago} s ago). Wait for that run to finish, or stop that process; a dead run's lock is taken over automatically.`,
  );
}

/** For a run that kept writing after another run took its lock over (it was judged dead or hung). */
export function lockLostError(holder: LockHolder): RunError {
  return new RunError(
    `run ${holder.runId} no longer holds the lock of sync "${holder.sync}": another run took it over because this run's ` +
      `heartbeat stopped for too long. This run stops without writing, so two runs never write the same state.`,
  );
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Refreshes a heartbeat until stopped; never keeps the process alive by itself. */
export function startHeartbeat(beat: () => Promise<unknown> | unknown, everyMs: number): () => void {
  const timer = setInterval(() => {
    void Promise.resolve().then(beat).catch(() => undefined);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
