import type { Destination } from '../destinations/destination.ts';
import { DEFAULT_CONCURRENCY, type BudgetLimits, type DeclaredRate } from './rate-budget.ts';

export interface ConfiguredRate {
  requestsPerSecond?: number;
  concurrency?: number;
}

/** The limits a destination's requests run under: the config's first, then what the destination documents. */
export function budgetLimits(destination: Destination, configured: ConfiguredRate = {}): BudgetLimits {
  const caps = destination.capabilities;
  const declaredRate = caps.rateLimit?.requestsPerSecond;
  return {
    requestsPerSecond: configured.requestsPerSecond,
    concurrency: configured.concurrency ?? caps.rateLimit?.concurrency,
    declared: declaredRate === undefined ? undefined : { requestsPerSecond: declaredRate, windowMs: caps.rateLimit?.windowMs },
    dailyReserve: caps.rateLimit?.dailyReserve,
  };
}

/** What the deliveries holding leases on one budget allow together. */
export interface LimitsInForce {
  /** The smallest configured rate. */
  configuredRate: number | undefined;
  /** The slowest documented rate. */
  declaredRate: DeclaredRate | undefined;
  /** The largest share of a daily quota left to others. */
  dailyReserve: number | undefined;
  /** The smallest concurrency cap (DEFAULT_CONCURRENCY when none says). */
  concurrency: number;
}

export function limitsInForce(leases: Iterable<BudgetLimits>): LimitsInForce {
  const all = [...leases];
  const rates = all.map((l) => l.requestsPerSecond).filter((r): r is number => r !== undefined && r > 0);
  const caps = all.map((l) => l.concurrency).filter((c): c is number => c !== undefined && c > 0);
  const declared = all.map((l) => l.declared).filter((d): d is DeclaredRate => d !== undefined && d.requestsPerSecond > 0);
  const reserves = all.map((l) => l.dailyReserve).filter((r): r is number => r !== undefined && r >= 0);
  return {
    configuredRate: rates.length > 0 ? Math.min(...rates) : undefined,
    declaredRate: declared.sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[0],
    dailyReserve: reserves.length > 0 ? Math.max(...reserves) : undefined,
    concurrency: caps.length > 0 ? Math.min(...caps) : DEFAULT_CONCURRENCY,
  };
}

/** RateBudget.lease: `limits` count among `leases` until the release; `changed` runs after either. */
export function holdLease(leases: Set<BudgetLimits>, limits: BudgetLimits, changed: () => void): () => void {
  const entry = { ...limits };
  leases.add(entry);
  changed();
  return () => {
    leases.delete(entry);
    changed();
  };
}
