import type { RejectCategory } from '../destinations/destination.ts';
import type { SyncMode } from '../config/project.ts';

export const RUN_STATUSES = ['running', 'success', 'partial', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The run summary of PRODUCT.md: every count exact, `delivered + rejected` = rows sent. */
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
  delivered: number;
  rejected: number;
  apiCalls: number;
  retries: number;
  throttled: number;
  error?: string;
  dryRun?: boolean;
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
  trigger: 'cli' | 'api' | 'schedule';
}

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
}

export interface RunRecord {
  summary: RunSummary;
  profile: RunProfile;
}

export function emptySummary(sync: string, runId: string, startedAt: string): RunSummary {
  return {
    sync, runId, status: 'running', startedAt, durationMs: 0,
    fetched: 0, added: 0, changed: 0, removed: 0, unchanged: 0,
    delivered: 0, rejected: 0, apiCalls: 0, retries: 0, throttled: 0,
  };
}
