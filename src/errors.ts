/**
 * Typed failures the engine understands. Connectors throw these; the delivery engine
 * decides what to do from `kind`, never from message text.
 *
 * - rate_limited: wait (`retryAfterMs` when the destination said) and retry without spending an attempt
 * - transient:    timeouts, 5xx, resets: retry with exponential backoff and jitter
 * - terminal:     the destination refused this request for good (a 400 on a batch): split or reject
 * - config:       bad credentials, unknown endpoint, unknown object: stop the run now, no retries
 * - quota:        a daily quota is (nearly) used up: stop cleanly, the rest waits for the next run
 * - unavailable:  the destination cannot take more now (it asks for a wait past the cap, or keeps
 *                 timing out): stop cleanly, the rest waits for the next run
 */
export const SYNC_ERROR_KINDS = ['rate_limited', 'transient', 'terminal', 'config', 'quota', 'unavailable'] as const;
export type SyncErrorKind = (typeof SYNC_ERROR_KINDS)[number];

export interface SyncErrorDetails {
  retryAfterMs?: number;
  /** The destination's own error code, e.g. REQUEST_LIMIT_EXCEEDED, VALIDATION_ERROR, 429. */
  code?: string;
  /** HTTP status when the failure came from an HTTP answer. */
  status?: number;
  /** The field at fault, when the destination named one. */
  field?: string;
  /** Category for rows rejected because of this error (see RejectCategory). */
  category?: import('./destinations/destination.ts').RejectCategory;
  /**
   * For transient failures: whether the destination may have applied the request anyway (a
   * timeout or a connection lost after sending; a 500/502/504). Left out, the engine judges
   * from `code` and `status` (see ambiguity.ts).
   */
  ambiguous?: boolean;
  cause?: unknown;
}

export class SyncError extends Error {
  readonly kind: SyncErrorKind;
  readonly retryAfterMs?: number;
  readonly code?: string;
  readonly status?: number;
  readonly field?: string;
  readonly category?: import('./destinations/destination.ts').RejectCategory;
  readonly ambiguous?: boolean;

  constructor(kind: SyncErrorKind, message: string, details: SyncErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SyncError';
    this.kind = kind;
    this.retryAfterMs = details.retryAfterMs;
    this.code = details.code;
    this.status = details.status;
    this.field = details.field;
    this.category = details.category;
    this.ambiguous = details.ambiguous;
  }
}

/** A mistake in the project's configuration: names the file, line and field. Exit code 64. */
export class ConfigError extends Error {
  /** When this error stands for several (see config-errors.ts `combine`): each one, with its own location. */
  readonly all?: readonly ConfigError[];

  constructor(
    message: string,
    readonly location: { file?: string; line?: number; field?: string } = {},
    all?: readonly ConfigError[],
  ) {
    super(formatLocation(location) + message);
    this.name = 'ConfigError';
    if (all) this.all = all;
  }
}

function formatLocation({ file, line, field }: { file?: string; line?: number; field?: string }): string {
  const where = [file && (line ? `${file}:${line}` : file), field].filter(Boolean).join(' ');
  return where ? `${where}: ` : '';
}

/** A run that cannot start or must stop as a whole (dead source, lock held, quota used). */
export class RunError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunError';
  }
}
