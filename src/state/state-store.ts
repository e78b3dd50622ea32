import type { Value } from '../sources/source.ts';
import type { RejectCategory } from '../destinations/destination.ts';
import type { RejectedRow, RunRecord, RunSummary, TraceLine } from './run-record.ts';
import type { RejectedGroup } from './rejected-groups.ts';

/**
 * What a row's state says of the destination's copy:
 * - delivered: it holds the row as fingerprinted by `fp`;
 * - rejected: it refused the values of `fp` for good and holds no copy;
 * - outdated: it refused the values of `fp` for good but still holds the version delivered
 *   before (found by `destId` / `match`), which mirror must still delete when the row leaves.
 * rejected and outdated rows are parked: sent again only when their fingerprint changes (or on
 * --retry-rejected).
 */
export const ROW_STATUSES = ['delivered', 'rejected', 'outdated'] as const;
export type RowStatus = (typeof ROW_STATUSES)[number];

/** The destination holds a copy of the row. */
export function isHeld(status: RowStatus | null | undefined): boolean {
  return status === 'delivered' || status === 'outdated';
}

/** The row was refused for good and waits for a change (or --retry-rejected). */
export function isParked(status: RowStatus | null | undefined): boolean {
  return status === 'rejected' || status === 'outdated';
}

/**
 * Per sync, what the destination last acknowledged for each row.
 * `fp` is the fingerprint of the mapped payload (a DuckDB UBIGINT, as decimal text in JS).
 */
export interface RowState {
  key: string;
  fp: string;
  /**
   * The DuckDB workspace's own quick fingerprint of the same values (its hash(), not portable):
   * while it matches, the workspace need not compute `fp` again. Any other writer leaves it null.
   */
  localFp?: string | null;
  status: RowStatus;
  /** The destination's own id (Salesforce Id, HubSpot id), when it gave one. */
  destId?: string | null;
  /** Destination identifier values, kept so mirror can delete a row that left the model. */
  match?: Record<string, Value> | null;
}

export type RowStateUpdate = RowState | { key: string; deleted: true };

/**
 * A sync's row state as files an engine like DuckDB scans in place: a base file of rows with
 * columns key, fp, status, dest_id, match (JSON text), local_fp, then the updates since (NDJSON, see
 * row-state-sql.ts), up to an entry. It is the state as of the call: later commits are not in
 * it. `release()` once read (a store may have written temporary files).
 */
export interface RowStateFiles {
  /** `withLocalFp`: the file has the local_fp column (Parquet snapshots before it do not). */
  base: { path: string; format: 'parquet' | 'csv'; withLocalFp?: boolean } | null;
  journal?: { path: string; upToSeq: number };
  release(): Promise<void>;
}

/**
 * How a state's fingerprints were computed: recipe v1 (src/diff/fingerprint/recipe-v1.md), or
 * DuckDB's hash() of the releases before it (which nothing else can compute). A state written
 * by an earlier release is moved to v1 by the first diff after the upgrade.
 */
export const FINGERPRINT_RECIPES = ['duckdb-hash', 'v1'] as const;
export type FingerprintRecipe = (typeof FINGERPRINT_RECIPES)[number];

/** Rows for replaceRowState: plain chunks, or a Parquet file with the columns of RowStateFiles (what DuckDB writes at full speed). */
export type RowStateInput = AsyncIterable<RowState[]> | RowState[] | { parquet: string };

export interface Lock {
  release(): Promise<void>;
}

export interface RunListQuery {
  sync?: string;
  limit?: number;
  /** Runs started before this ISO time (pagination). */
  before?: string;
}

export interface RejectedQuery {
  category?: RejectCategory;
  offset?: number;
  limit?: number;
}

/**
 * Everything Lastmile remembers. Two implementations share one conformance suite:
 * the embedded store (files under `.lastmile/`) and Postgres (`state: postgres://…`).
 */
export interface StateStore {
  readonly kind: 'embedded' | 'postgres';

  // ---- row state (the diff's "previous") ----
  /**
   * The recipe of the sync's fingerprints: null while it has no state, 'duckdb-hash' for state
   * an earlier release wrote. A new state, and every replaceRowState, is 'v1'; commits and
   * compaction keep the recipe the state has.
   */
  fingerprintRecipe(sync: string): Promise<FingerprintRecipe | null>;
  /** The sync's committed row state, in chunks of at most `chunkSize` rows (any order). */
  readRowState(sync: string, options?: { chunkSize?: number; signal?: AbortSignal }): AsyncIterable<RowState[]>;
  /** The same state as files to scan in place (what a DuckDB diff joins at full speed). */
  rowStateFiles(sync: string): Promise<RowStateFiles>;
  /** Durably records outcomes the destination acknowledged. Resolves once they survive a crash. */
  commitRows(sync: string, updates: RowStateUpdate[]): Promise<void>;
  /** Folds the updates committed so far into the state's compact form, at the end of a run (nothing to do for some stores). */
  compactRowState(sync: string): Promise<void>;
  /**
   * Replaces the whole row state with `rows` (seeding, upgrading fingerprints), atomically:
   * a crash or a duplicated key leaves the previous state as it was.
   */
  replaceRowState(sync: string, rows: RowStateInput): Promise<void>;
  /** Keeps keys, ids and identifiers but forgets fingerprints: the next diff re-sends every row (--full-resync). */
  forgetFingerprints(sync: string): Promise<void>;

  // ---- incremental cursor (high-water mark of the last successful run) ----
  getCursor(sync: string): Promise<Value | null>;
  setCursor(sync: string, value: Value | null): Promise<void>;

  // ---- one run at a time ----
  /** Throws RunError naming the holder when a live run of `sync` holds the lock; takes over a dead one's. */
  acquireLock(sync: string, runId: string): Promise<Lock>;

  // ---- run history ----
  saveRun(run: RunRecord): Promise<void>;
  /**
   * Marks `abandoned` every run still `running` that no live process holds the lock for (killed,
   * hung, or taken over; see dead-runs.ts), keeping the counts it had committed. Answers their ids.
   */
  abandonDeadRuns(): Promise<string[]>;
  appendTrace(runId: string, lines: TraceLine[]): Promise<void>;
  addRejected(rows: RejectedRow[]): Promise<void>;
  listRuns(query?: RunListQuery): Promise<RunSummary[]>;
  getRun(runId: string): Promise<(RunRecord & { trace: TraceLine[] }) | undefined>;
  listRejected(runId: string, query?: RejectedQuery): Promise<{ total: number; rows: RejectedRow[] }>;
  /** Rejection counts by category for one run. */
  rejectedByCategory(runId: string): Promise<Partial<Record<RejectCategory, number>>>;
  /** A run's rejected rows grouped by category, code and message, biggest group first. */
  rejectedGroups(runId: string): Promise<RejectedGroup[]>;
  /** Each key's newest rejection over the sync's runs (whether it still stands, the row state says). */
  latestRejections(sync: string): Promise<RejectedRow[]>;

  // ---- pause: the scheduler and the API start no run of a paused sync ----
  /** When the sync was paused (ISO), or null when it is not. */
  pausedAt(sync: string): Promise<string | null>;
  /** Pauses (at this ISO time; an earlier pause keeps its time) or, with null, resumes the sync. */
  setPaused(sync: string, at: string | null): Promise<void>;

  close(): Promise<void>;
}
