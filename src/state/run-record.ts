import type { RejectCategory } from '../destinations/destination.ts';
import type { SyncMode } from '../config/project.ts';

/**
 * running; success (every change delivered); partial (rows rejected or deferred); failed (with
 * `error`, state as the last acknowledged batch left it); cancelled (Ctrl-C, SIGTERM, API);
 * abandoned (found dead: its lock was taken over, or its process is gone).
 */
export const RUN_STATUSES = ['running', 'success', 'partial', 'failed', 'cancelled', 'abandoned'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * The run summary of PRODUCT.md. Every count is exact, and the rows a run had to sync add up:
 * `toSync = delivered + rejected + deferred + skipped`.
 */
export interface RunSummary {
  sync: string;
  runId: string;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  durationMs: number;
  fetched: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** Rows this run had to settle: the changes its mode sends, plus rows with an invalid key. */
  toSync: number;
  delivered: number;
  /** Refused by the destination or the local checks; `rejectedRetryable` of them are sent again next run, the rest are parked until the row changes. */
  rejected: number;
  rejectedRetryable: number;
  /** Not settled in this run (not isolated, a capped wait, the circuit broken, the run stopped): the next run sends them. */
  deferred: number;
  /** Operations with nothing to do: a delete of a row the destination never held. */
  skipped: number;
  apiCalls: number;
  retries: number;
  throttled: number;
  error?: string;
  dryRun?: boolean;
  /** What started the run (absent in runs of earlier releases: their profile says). */
  trigger?: RunTrigger;
  /** With a model's `freshness`: how old its newest row was when the run read it. */
  freshness?: RunFreshness;
  /** With a model's `eventTime`: end-to-end latency L of the delivered rows (the reference page's L). */
  latency?: RunLatency;
}

export interface RunFreshness {
  column: string;
  /** Newest value of the column (ISO instant), null when no row has one. */
  newestAt: string | null;
  /** Age of that row when the run read the model. */
  ageMs: number | null;
  maxAgeMs: number;
  stale: boolean;
  /** onStale hold: rows held back as stale_data. */
  held?: number;
}

export interface Percentiles {
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/**
 * L = event time -> destination acknowledgement, per delivered row, and its split as the reference
 * page writes it: warehouse load (event time -> the run's read of the model) + sync (read -> acknowledged).
 */
export interface RunLatency extends Percentiles {
  /** Delivered rows with an event time (those L is measured on). */
  rows: number;
  warehouseLoad: Percentiles;
  sync: Percentiles;
}

/** What the run connected: the "sync job profile" card. */
export interface RunProfile {
  model: string;
  source: string;
  sourceType: string;
  destination: string;
  destinationType: string;
  mode: SyncMode;
  /** e.g. "Incremental (Upsert)", "Full resync (Mirror)". */
  syncModeLabel: string;
  /** Where the diff ran: workspace, warehouse or engine (absent in runs of earlier releases). */
  diff?: string;
  trigger: RunTrigger;
}

/** What started a run: the CLI, the API (UI), a schedule, another sync it runs `after`, or dbt finishing. */
export const RUN_TRIGGERS = ['cli', 'api', 'schedule', 'after', 'dbt'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/** One line of the human-readable trace: `// 3. push   batch 3: 429 Too Many Requests …` */
export interface TraceLine {
  at: string;
  step: 1 | 2 | 3 | 4;
  text: string;
}

export interface RejectedRow {
  runId: string;
  sync: string;
  key: string;
  category: RejectCategory;
  field?: string;
  code?: string;
  message: string;
  retryable: boolean;
  at: string;
  /** The values sent (the mapped payload; for a delete, its identifiers), or the model's row when the mapping refused it. Plain JSON. */
  sent?: Record<string, unknown>;
}

export interface RunRecord {
  summary: RunSummary;
  profile: RunProfile;
}

export function emptySummary(sync: string, runId: string, startedAt: string): RunSummary {
  return {
    sync, runId, status: 'running', startedAt, durationMs: 0,
    fetched: 0, added: 0, changed: 0, removed: 0, unchanged: 0,
    toSync: 0, delivered: 0, rejected: 0, rejectedRetryable: 0, deferred: 0, skipped: 0, apiCalls: 0, retries: 0, throttled: 0,
  };
}
