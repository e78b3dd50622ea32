import type { RejectedRow, RunSummary } from '../state/run-record.ts';
import { OPERATIONS } from '../destinations/destination.ts';
import { OUTCOMES, type ChangeColumns } from './change-columns.ts';

/**
 * The sync log tables written back into the warehouse (`logs: { source, schema }`), one row per
 * run, per settled row, per rejected row. A run's changes are staged as its rows settle, and the
 * run is written whole after it ends; writing it again replaces it (delete by run_id, then
 * insert, in one transaction).
 */
export type LogType = 'text' | 'bigint' | 'double' | 'boolean' | 'timestamptz';
export type LogValue = string | number | boolean | null;
export interface LogTable {
  name: string;
  /** `values`: a text column that only ever holds these (a DuckDB file stores it as an ENUM). */
  columns: [name: string, type: LogType, values?: readonly string[]][];
  /** Column the retention judges age by. */
  timeColumn: string;
  primaryKey?: string[];
}

export const RUNS_TABLE: LogTable = {
  name: 'runs', timeColumn: 'started_at', primaryKey: ['run_id'],
  columns: [
    ['run_id', 'text'], ['sync', 'text'], ['status', 'text'], ['started_at', 'timestamptz'], ['finished_at', 'timestamptz'],
    ['duration_ms', 'bigint'], ['fetched', 'bigint'], ['added', 'bigint'], ['changed', 'bigint'], ['removed', 'bigint'],
    ['unchanged', 'bigint'], ['to_sync', 'bigint'], ['delivered', 'bigint'], ['rejected', 'bigint'], ['deferred', 'bigint'],
    ['skipped', 'bigint'], ['api_calls', 'bigint'], ['retries', 'bigint'], ['throttled', 'bigint'], ['error', 'text'],
    ['newest_row_at', 'timestamptz'], ['newest_row_age_ms', 'bigint'], ['stale', 'boolean'],
    ['latency_p50_ms', 'double'], ['latency_p95_ms', 'double'], ['latency_max_ms', 'double'], ['summary', 'text'],
  ],
};

/** One row per row the destination answered for (delivered or rejected) or the run deferred. */
export const CHANGES_TABLE: LogTable = {
  name: 'changes', timeColumn: 'settled_at',
  columns: [
    ['run_id', 'text'], ['sync', 'text'], ['key', 'text'], ['op', 'text', OPERATIONS], ['outcome', 'text', OUTCOMES],
    ['settled_at', 'timestamptz'], ['event_at', 'timestamptz'], ['latency_ms', 'double'],
  ],
};

export const REJECTIONS_TABLE: LogTable = {
  name: 'rejections', timeColumn: 'rejected_at',
  columns: [
    ['run_id', 'text'], ['sync', 'text'], ['key', 'text'], ['category', 'text'], ['field', 'text'], ['code', 'text'],
    ['message', 'text'], ['retryable', 'boolean'], ['rejected_at', 'timestamptz'],
  ],
};

export const LOG_TABLES = [RUNS_TABLE, CHANGES_TABLE, REJECTIONS_TABLE];

/** What one run writes back. */
export interface RunLogs {
  summary: RunSummary;
  rejections: RejectedRow[];
  retentionMs?: number;
}

/** The rows of the runs and rejections tables for a run, in their column order (timestamps as epoch ms). */
export function rowsOf({ summary: s, rejections }: RunLogs): Map<LogTable, LogValue[][]> {
  const iso = (text: string | undefined | null) => (text ? Date.parse(text) : null);
  const run: LogValue[] = [
    s.runId, s.sync, s.status, iso(s.startedAt), iso(s.finishedAt), s.durationMs, s.fetched, s.added, s.changed, s.removed,
    s.unchanged, s.toSync, s.delivered, s.rejected, s.deferred, s.skipped, s.apiCalls, s.retries, s.throttled, s.error ?? null,
    iso(s.freshness?.newestAt), s.freshness?.ageMs ?? null, s.freshness?.stale ?? null,
    s.latency?.p50Ms ?? null, s.latency?.p95Ms ?? null, s.latency?.maxMs ?? null, JSON.stringify(s),
  ];
  return new Map<LogTable, LogValue[][]>([
    [RUNS_TABLE, [run]],
    [REJECTIONS_TABLE, rejections.map((r) => [s.runId, s.sync, r.key, r.category, r.field ?? null, r.code ?? null, r.message, r.retryable, iso(r.at)])],
  ]);
}

/**
 * Deletes what an earlier write of run `runId` left, in the transaction that writes it again: its
 * runs row, and its changes and rejections only when that row was there. A run's rows are only
 * ever committed with its runs row, so a run never written (every run but a rewrite) deletes by
 * the runs table's key alone, and the changes table is not scanned: Postgres has no index on its
 * run_id, and DuckDB's zone maps cannot skip by it (a string's keep its first 8 bytes, which all
 * run ids of a day share); that scan grew with every change ever logged.
 */
export async function deleteEarlierWrite(runId: string, name: (table: LogTable) => string, deleted: (sql: string, params: LogValue[]) => Promise<number>): Promise<void> {
  if ((await deleted(`DELETE FROM ${name(RUNS_TABLE)} WHERE run_id = $1`, [runId])) === 0) return;
  for (const table of [CHANGES_TABLE, REJECTIONS_TABLE]) await deleted(`DELETE FROM ${name(table)} WHERE run_id = $1`, [runId]);
}

/** Writes a run's logs into one warehouse. */
export interface LogWriter {
  /** Gets ready, as the run starts (the DuckDB writer opens its staging database, the Postgres one connects and creates the tables): the cost hides behind the read. */
  open(): Promise<void>;
  /** Settled rows of a run too long to hold in memory, a chunk at a time: kept aside (in the process's log DuckDB, or a Postgres temp table) until write(). */
  stage(changes: ChangeColumns[]): Promise<void>;
  /**
   * The rest of the run's rows (all of them, unless it was long), once its delivery has ended:
   * the writer starts on them while the run folds its state, the run's model let go by then: it
   * opens the run's transaction and moves them in (DuckDB staging them first). Not called when
   * the run failed before its end.
   */
  begin(changes: ChangeColumns[]): Promise<void>;
  /** Writes the run: its changes (staged, and given to begin()), its rejections and its own row, in one transaction. */
  write(logs: RunLogs): Promise<void>;
  close(): Promise<void>;
}
