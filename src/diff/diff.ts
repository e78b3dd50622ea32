import type { ModelConfig } from '../config/project.ts';
import type { Row, Source, Value } from '../sources/source.ts';
import type { RowStatus, StateStore } from '../state/state-store.ts';

/**
 * The diff port: how the engine learns what changed since the last run, whatever computes it
 * (a DuckDB workspace beside the engine, or SQL inside the warehouse). The engine asks for
 * counts, samples, rows with an invalid key, and the differences by kind in bounded chunks;
 * it never sees how they were found.
 */

export const DIFF_KINDS = ['added', 'changed', 'removed'] as const;
export type DiffKind = (typeof DIFF_KINDS)[number];

export interface DiffCounts {
  /** Rows the model returned (for a cursor: rows at or past the mark). */
  fetched: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** Rows with a null or duplicated primary key: rejected as invalid_row. */
  invalid: number;
  /** Rows of the previous state (to judge how large a deletion is). */
  previous: number;
}

/** What the fingerprint covers: the mapping's signature and the model columns it reads. */
export interface FingerprintInputs {
  signature: string;
  columns: string[];
}

export interface DiffRequest {
  /** Whose state is compared. */
  sync: string;
  model: ModelConfig;
  source: Source;
  state: StateStore;
  /**
   * What the fingerprint covers, given the model's columns once read (the mapping decides;
   * it may also refuse the columns with a ConfigError).
   */
  fingerprint(columns: string[]): FingerprintInputs;
  /** Cursor mode: read only rows at or past this mark (null: every row). */
  since: Value | null;
  /** Parked rows count as changed. */
  retryRejected: boolean;
  /** Every row still in the model counts as changed. */
  fullResync: boolean;
  /**
   * The diff may write the state it maintains (moving it to the current fingerprint recipe,
   * remembering what makes unchanged rows quick to find). A run holding the sync's lock says
   * yes; plan and dry runs say no, and see the same answers.
   */
  persist: boolean;
  signal: AbortSignal;
  /** DuckDB memory cap of a workspace diff (plans take less than runs). */
  memoryLimit?: string;
}

/** One difference, with what delivery and state need to know of it. */
export interface ChangeRow {
  kind: DiffKind;
  key: string;
  /** Fingerprint (recipe v1) of the values the model holds now (null for a removed row). */
  fp: string | null;
  /** The diff's own quicker fingerprint of the same values, if it keeps one (see RowState.localFp). */
  localFp?: string | null;
  /** The model's columns (null for a removed row, or one that left the model since the diff). */
  row: Row | null;
  /**
   * The model's eventTime of the row in epoch ms (null: none), when the diff computes it in SQL
   * (the workspace's does, for a date or timestamp column); otherwise read from `row`.
   */
  eventAt?: number | null;
  /** The row's state before this run, if it had one. */
  previous: { status: RowStatus; destId: string | null; match: Record<string, Value> | null } | null;
}

/** Rows whose key cannot be tracked: null (`key` null), or the same key `copies` times. */
export interface InvalidKey {
  key: string | null;
  copies: number;
}

export interface Diff {
  readonly counts: DiffCounts;
  /** Cursor mode: only rows at or past the mark were read, so absence does not mean removal. */
  readonly incremental: boolean;
  /** Largest cursor value read (to store once the run succeeds). */
  readonly highWaterMark: Value | null;
  /** The model's columns. */
  readonly columns: string[];
  /** Which diff this is, for plan and the run profile (`workspace`, `warehouse`, `engine`). */
  readonly method: string;
  invalidKeys(signal: AbortSignal): AsyncIterable<InvalidKey[]>;
  /** The largest value of `column` among the rows read, computed where the rows are (null: no rows). */
  newest(column: string, signal: AbortSignal): Promise<Value | null>;
  /** The first `perKind` differences of each kind, by key. */
  sample(perKind: number, signal: AbortSignal): Promise<ChangeRow[]>;
  /** Every difference of `kinds`, in chunks of at most `chunkSize`. */
  changes(kinds: DiffKind[], options: { chunkSize: number; signal: AbortSignal }): AsyncIterable<ChangeRow[]>;
  /**
   * Lets go of the model's source once the run has sent its changes, before close(): a diff that
   * holds a DuckDB model file (the workspace's, attached) has it. The others keep their sessions
   * until close(): closing a warehouse diff before the fold hung runs whose state is kept in the
   * warehouse (test/engine/warehouse-crash-safety).
   */
  releaseModel?(): Promise<void>;
  close(): Promise<void>;
}
