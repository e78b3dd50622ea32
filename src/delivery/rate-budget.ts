import type { RateLimitObservation } from '../destinations/destination.ts';

/**
 * The request budget of one credential (a HubSpot portal, a Salesforce org, a webhook with
 * its token): every request any delivery sends to that credential takes a permit from it,
 * so two syncs to one portal share one limit instead of each taking all of it.
 *
 * Three gates, each a separate setting: how many requests may be in flight (concurrency),
 * how many may start per second (the rate), and what the destination itself reports (limit
 * headers: a rolling window; a daily quota kept from running out).
 *
 * The rate comes from, in order: the config (a ceiling, counted per second, never passed);
 * the window the destination reports in its answers; the limit it documents (a default
 * until it reports one, up or down); or, with none of these, an adaptive search for it.
 *
 * An implementation may keep its state in this process (local-rate-budget.ts) or share it
 * between processes: every method but acquire() answers at once, so one that needs I/O
 * (a shared store) does it in the background and reads shared state in acquire(). The
 * conformance suite in test/conformance/rate-budget-conformance.ts says what each must do.
 */
export interface RateBudget {
  /** The credential (`destination.budgetKey`). */
  readonly key: string;
  /** Where the rate comes from (see above). */
  readonly mode: BudgetMode;
  /** The rate in force now (Infinity: none). */
  readonly requestsPerSecond: number;
  /** Requests allowed in flight at once. */
  readonly concurrency: number;
  /** Permits held now. */
  readonly inFlight: number;
  /** A delivery's limits count while it runs; several at once: the smallest of each wins. Returns the release. */
  lease(limits: BudgetLimits): () => void;
  /**
   * Waits for a free slot, the rate, any pause a 429 asked for; throws SyncError 'quota' when a
   * daily quota is down to its reserve (except for `finishing` requests), or the signal's reason.
   */
  acquire(signal: AbortSignal, options?: AcquireOptions): Promise<Permit>;
  /**
   * The destination answered 429: nobody on this credential starts a request until the pause
   * is over. Answers the wait imposed (Retry-After when given, else a growing pause).
   */
  throttled(retryAfterMs?: number): number;
  /** Limit information from the destination's answers. */
  observe(observation: RateLimitObservation): void;
}

export type BudgetMode = 'configured' | 'reported' | 'declared' | 'adaptive';

export interface BudgetLimits {
  /** From the config: never more than this in any second. */
  requestsPerSecond?: number;
  concurrency?: number;
  /** What the destination documents, counted over its own window (HubSpot: 10/s over 10 s). */
  declared?: DeclaredRate;
  /** Requests of a daily quota left for the credential's other users (default: DAILY_RESERVE_SHARE of it). */
  dailyReserve?: number;
}

export interface DeclaredRate {
  requestsPerSecond: number;
  windowMs?: number;
}

export interface AcquireOptions {
  /**
   * The request carries on a write already under way (a Bulk job's poll, the upsert after a
   * mirror's archive): it is not refused at the daily reserve, since stopping there would
   * leave the write half done. It still waits for a slot, the rate and any pause.
   */
  finishing?: boolean;
}

export type RequestOutcome = 'success' | 'throttled' | 'failed';

/** One request's right to go. Release it exactly once, with what happened (a second release does nothing). */
export interface Permit {
  release(outcome: RequestOutcome): void;
  /** When it was granted (ms), on the budget's own clock: Redis's for a shared budget. */
  readonly grantedAt?: number;
}

/** In flight at once when neither the config nor the destination says. */
export const DEFAULT_CONCURRENCY = 8;
/** Share of a daily quota left untouched for the credential's other users, unless a lease says how many. */
export const DAILY_RESERVE_SHARE = 0.02;

/** Where budgets come from: one per credential, shared by everything that asks for that key. */
export interface BudgetProvider {
  budget(key: string): RateBudget;
}
