import type { Destination } from '../destinations/destination.ts';
import type { BudgetLimits } from './rate-budget.ts';

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
