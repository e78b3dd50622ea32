import type { SyncConfig, DestinationConfig } from '../config/project.ts';
import type { Value } from '../sources/source.ts';

/** What a sync asks a destination to do with one record. */
export const OPERATIONS = ['insert', 'update', 'upsert', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Why a row did not arrive (PRODUCT.md's categories). */
export const REJECT_CATEGORIES = [
  'rate_limit', 'schema_mismatch', 'missing_identifier', 'destination_error', 'stale_data', 'invalid_row',
] as const;
export type RejectCategory = (typeof REJECT_CATEGORIES)[number];

/** One record handed to a destination: the mapped, coerced payload and how to find it there. */
export interface Change {
  /** The model's primary key, as a canonical string (composite keys: JSON array). */
  key: string;
  op: Operation;
  /** Destination identifier field(s) and their values, e.g. `{ Email: "ada@example.com" }`. */
  match: Record<string, Value>;
  /** Mapped payload: destination field -> value (match fields included). Empty for deletes. */
  fields: Record<string, Value>;
  /** The destination's own id for this record, remembered from an earlier delivery. */
  destId?: string;
}

export interface Rejection {
  category: RejectCategory;
  message: string;
  /** The destination's own code (`STRING_TOO_LONG`, `VALIDATION_ERROR`, `400`). */
  code?: string;
  field?: string;
  /** true: try again next run (5xx, rate limit). false: parked until the row changes. */
  retryable: boolean;
}

export type RecordResult =
  | { key: string; outcome: 'delivered'; destId?: string }
  | { key: string; outcome: 'rejected'; rejection: Rejection };

/** What a destination can do, as data: the engine plans batches and limits from it. */
export interface Capabilities {
  operations: readonly Operation[];
  /** Most records one write() accepts (Salesforce Collections 200, HubSpot batch 100). */
  maxBatchSize: number;
  /**
   * Limits the destination documents; config `rateLimit` overrides them. The rate is a
   * default that the limits the destination reports in its answers replace, counted over
   * `windowMs` (HubSpot: 10/s over 10 s, so 100 per 10 s); absent = adaptive.
   */
  rateLimit?: {
    requestsPerSecond?: number; windowMs?: number; concurrency?: number;
    /** Requests of the daily quota left for the credential's other users (Salesforce's quotaReserve). */
    dailyReserve?: number;
  };
  /**
   * true when write() returns a result per record even if some fail. false when one bad
   * record fails the whole request: the engine then splits the batch to isolate it.
   */
  perRecordResults: boolean;
  /**
   * Operations a retry cannot apply twice even when the first attempt may have been applied
   * (a timeout, a connection lost after sending): they name their record (upsert by an
   * external id, update, delete), or the destination deduplicates (Idempotency-Key, message
   * ids). Absent: upsert, update and delete. A batch holding another operation is not retried
   * after such a failure: it is deferred to the next run.
   */
  retrySafe?: readonly Operation[];
}

/** A destination field's declared type, learned by describe(): drives coercion and validation. */
export const FIELD_TYPES = [
  'string', 'integer', 'number', 'boolean', 'date', 'datetime', 'email', 'enum', 'json', 'id',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldSpec {
  name: string;
  type: FieldType;
  maxLength?: number;
  required?: boolean;
  /** Allowed values for enums (HubSpot options, Salesforce picklists when restricted). */
  options?: string[];
  externalId?: boolean;
  /** Number precision/scale when declared (Salesforce currency, numeric columns). */
  precision?: number;
  scale?: number;
}

/** Limit information read from a destination's answers (X-HubSpot-RateLimit-*, Sforce-Limit-Info). */
export interface RateLimitObservation {
  /** Requests allowed per window and still left in it. */
  limit?: number;
  remaining?: number;
  intervalMs?: number;
  /** Daily (or other long-window) quota. */
  dailyLimit?: number;
  dailyRemaining?: number;
  /** When the answer came (ms since the epoch); left out, when it is reported. An older observation than one already reported changes nothing. */
  at?: number;
}

/**
 * The run's one bounded budget for finding the rows that make a destination refuse a whole
 * request (delivery/bisection.ts). A destination that halves a refused group itself (SQL,
 * inside its transaction) asks takeSplit() before sending two halves, and calls found() for
 * each row refused alone. When takeSplit() says false, it throws the refusal: the engine then
 * gives the rows back to the queue once, or defers them to the next run.
 */
export interface SplitBudget {
  /** Takes the calls of one split (its two halves); false when the budget is used up. */
  takeSplit(): boolean;
  /** A row was refused alone: the calls finding it took come back to the budget. */
  found(): void;
}

export interface WriteContext {
  signal: AbortSignal;
  /**
   * Sends one request under the credential's rate budget: every request a write sends goes
   * through here. It waits for a permit (a free slot, the rate, a pause a 429 asked for; the
   * run stops at a daily quota's reserve), counts the API call, and gives the permit back with
   * how `send` went. A 429 (SyncError 'rate_limited') is waited out and `send` called again,
   * without spending an attempt; any other failure is thrown on, for the engine to act on.
   * An exchange of several calls under one permit (the statements of a SQL transaction, the
   * messages of one publish round) counts each with `call()`; one that counts none is one call.
   */
  request<T>(send: (call: () => void) => Promise<T>): Promise<T>;
  /** Report limit headers so the engine paces itself and stops before a quota runs out. */
  observeLimits(observation: RateLimitObservation): void;
  /** The run's bounded budget for isolating refused rows, for destinations that halve a refused group themselves. */
  splits: SplitBudget;
  /** A line for the run trace, for steps inside one write (Bulk job states, polling). */
  trace(text: string): void;
  /** Optional: the HTTP status of a successful answer, so the trace reads `batch 1: 200 OK [500]`. */
  status?(code: number): void;
  /**
   * The same for every retry of these records and different for any other request (a split
   * half gets its own): what an Idempotency-Key is made from. Absent when write() is called
   * outside a delivery.
   */
  batchId?: string;
}

/** A request as a destination would send it, secrets redacted: what `sync --only KEY` can show. */
export interface RequestPreview {
  operation: Operation;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Destination {
  readonly name: string;
  readonly type: string;
  readonly capabilities: Capabilities;
  /**
   * Rate limits and quotas belong to a credential, not a sync: two syncs to the same
   * HubSpot portal or Salesforce org return the same key and share one budget.
   */
  readonly budgetKey: string;
  /** Tests connection and credentials; throws SyncError(kind 'config') with a clear message. */
  check(signal: AbortSignal): Promise<void>;
  /** Limits the destination learned outside a write (check, describe): a delivery starts knowing them. Optional. */
  lastObservedLimits?(): RateLimitObservation | undefined;
  /** The fields the sync writes, with their types, for coercion before sending. Optional. */
  describe?(signal: AbortSignal): Promise<FieldSpec[]>;
  /**
   * Sends one batch (at most maxBatchSize changes, all for this sync). Returns one result
   * per change, in any order, keyed by `key`. Throws SyncError for whole-request failures.
   */
  write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]>;
  /**
   * Told the run's change count before delivery, so a destination can pick its API
   * (Salesforce: Bulk 2.0 above a threshold) and with it `capabilities.maxBatchSize`.
   */
  planFor?(changeCount: number): void;
  /** Optional: the requests write() would send for these changes, rendered but not sent, secrets redacted. */
  preview?(batch: Change[]): RequestPreview[];
  close(): Promise<void>;
}

/** Everything a destination factory receives. */
export interface DestinationInit<Conn, Opts> {
  /** Connection settings, already validated by the type's `connection` schema. */
  connection: Conn & DestinationConfig;
  /** The sync's destination-specific settings, validated by the type's `syncOptions` schema. */
  options: Opts;
  sync: SyncConfig;
  /** Absolute project root, for relative paths. */
  rootDir: string;
}
