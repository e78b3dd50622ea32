import type { Change, Operation } from '../destinations/destination.ts';
import type { SyncError } from '../errors.ts';

/** Failures that happened before the request left: the destination cannot have applied it. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
/** Answers that may come after the destination did the work: a crash, a proxy that gave up waiting. */
const MAYBE_APPLIED_STATUS = new Set([500, 502, 504]);

/** Operations a retry cannot apply twice when nothing else is declared: they name their record. */
export const NATURALLY_IDEMPOTENT: readonly Operation[] = ['upsert', 'update', 'delete'];

/**
 * Whether a transient failure leaves it unknown if the destination applied the request: a
 * timeout or a connection lost once the request was out, or a 500/502/504. A 503, a 429 or a
 * connection never made are answers of "not done". A destination may say itself (`ambiguous`).
 */
export function mayHaveApplied(err: SyncError): boolean {
  if (err.ambiguous !== undefined) return err.ambiguous;
  if (err.status !== undefined) return MAYBE_APPLIED_STATUS.has(err.status);
  return !(err.code !== undefined && NEVER_SENT.has(err.code));
}

/** The first operation of `batch` that a retry could apply twice, given what the destination makes safe. */
export function unsafeToRetry(batch: Change[], retrySafe: readonly Operation[]): Operation | undefined {
  return batch.find((change) => !retrySafe.includes(change.op))?.op;
}
