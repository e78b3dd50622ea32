import type { DbtModel } from './dbt/dbt-model.ts';

/**
 * The resolved shape of a Lastmile project, after `lastmile.yml` is parsed, `${ENV}`
 * substituted and validated. Everything downstream reads these types, never raw YAML.
 */
import type { DiffMethod } from '../diff/diff-method.ts';

export const SYNC_MODES = ['upsert', 'insert', 'update', 'mirror'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export interface Project {
  /** Absolute path of the main config file (or folder); relative paths resolve from `rootDir`. */
  configPath: string;
  rootDir: string;
  /** `.lastmile` folder (absolute) for the embedded store, or a `postgres://` URL. */
  state: string;
  /** Where `state:` is written (or would be), for messages about it. */
  stateLocation?: { file?: string; line?: number; field?: string };
  sources: Record<string, SourceConfig>;
  destinations: Record<string, DestinationConfig>;
  models: Record<string, ModelConfig>;
  syncs: Record<string, SyncConfig>;
  /** API tokens for `lastmile serve` (besides LASTMILE_API_TOKEN). */
  tokens: ApiToken[];
  alerts: AlertConfig[];
  /** Distributed mode (`queue:`, or LASTMILE_REDIS_URL): where the queues and shared rate budgets live. */
  queue?: QueueConfig;
  /** Where `queue:` is written, for messages about it. */
  queueLocation?: { file?: string; line?: number; field?: string };
  /** Sync logs written back to a warehouse source after each run. */
  logs?: LogsConfig;
  /** Every secret value substituted from the environment: redacted from all output. */
  secrets: string[];
}

export interface QueueConfig {
  redis: string;
  /** Prefix of every Redis key. */
  prefix: string;
  /** A job whose worker is silent this long goes to another worker. */
  stalledAfterMs?: number;
}

/** Connection settings as written, validated by the source type's own schema. */
export interface SourceConfig {
  name: string;
  type: string;
  [setting: string]: unknown;
}

export interface DestinationConfig {
  name: string;
  type: string;
  batch?: { size?: number };
  rateLimit?: RateLimitConfig;
  [setting: string]: unknown;
}

export interface RateLimitConfig {
  requestsPerSecond?: number;
  concurrency?: number;
  /** Longest Retry-After wait accepted, ms (config: a duration like 60s). */
  maxRetryAfter?: number;
}

export interface ModelConfig {
  name: string;
  source: string;
  /** Exactly one of sql / table is set. */
  sql?: string;
  table?: string;
  primaryKey: string[];
  cursor?: string;
  /** Where the diff runs (absent: the source's `diff`, else workspace); see diff/diff-method.ts. */
  diff?: DiffMethod;
  /** Set for `dbt:` models: what the manifest says (the model reads `table`, its schema.alias). */
  dbt?: DbtModel & { manifest: string; primaryKeyFromDbt: boolean };
  /** The newest row must be younger than maxAge (ms) by this timestamp column, or the run stops (stale_data). */
  freshness?: { column: string; maxAgeMs: number };
  /** Timestamp column of each row's event: the start of its end-to-end latency. */
  eventTime?: string;
  /** Line of the model in its file, for messages; `lines` has the line of `primaryKey` and `cursor`. */
  location?: { file: string; line?: number; lines?: Record<string, number> };
}

export type FieldMapping =
  | { kind: 'column'; column: string }
  | { kind: 'static'; value: unknown }
  | { kind: 'template'; template: string };

export type Schedule = { every: string; everyMs: number } | { cron: string };

export interface SyncConfig {
  name: string;
  model: string;
  destination: string;
  mode: SyncMode;
  /** model column -> destination identifier field */
  match: Record<string, string>;
  /** destination field -> how its value is made */
  mapping: Record<string, FieldMapping>;
  schedule?: Schedule;
  /** Run after these syncs succeed (scheduler dependencies). */
  after?: string[];
  /** Mirror only: refuse a run that would delete more than this share of synced rows. */
  maxDeletePercent?: number;
  /** The low-latency event path's settings (absent: events use the defaults). */
  events?: EventsConfig;
  /** A stale model fails the run (default), or only its stale rows are held back. */
  onStale?: 'fail' | 'hold';
  /** Destination-specific settings written on the sync (object, api, table, subject…). */
  options: Record<string, unknown>;
  /** Line of the sync in its file, for messages; `lines` has the line of each `match.<column>` and `mapping.<field>`. */
  location?: { file: string; line?: number; lines?: Record<string, number> };
}

export interface EventsConfig {
  maxWaitMs: number;
  orderBy?: string;
  queueSize: number;
  nats?: { subject: string; servers: string | string[]; stream?: string; durable?: string };
}

export interface ApiToken {
  token: string;
  role: 'admin' | 'read' | 'events';
  name?: string;
}

/** failed: the run failed; rejected: rows were rejected; stale: the model's newest row was too old; latency: L p95 above the threshold. */
export const ALERT_EVENTS = ['failed', 'rejected', 'stale', 'latency'] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

export interface AlertConfig {
  type: 'webhook' | 'slack';
  url: string;
  on: AlertEvent[];
  /** For `rejected`: alert when a run rejects at least this many rows. */
  rejectedThreshold?: number;
  /** For `latency`: alert when a run's L p95 is above this many ms. */
  latencyP95?: number;
}

export interface LogsConfig {
  source: string;
  schema: string;
  /** Log rows older than this many ms are deleted after each run. */
  retentionMs?: number;
}
