import type { Destination } from '../destinations/destination.ts';
import { budgetLimits, type ConfiguredRate } from './budget-limits.ts';
import { budgetFor } from './budgets.ts';

/**
 * destination.check() under the credential's budget: its request counts against the cap and the
 * rate like any other, so a worker checking while others deliver never adds one request too many.
 */
export async function checkDestination(destination: Destination, configured: ConfiguredRate | undefined, signal: AbortSignal): Promise<void> {
  const { budget, release } = budgetFor(destination.budgetKey, budgetLimits(destination, configured));
  try {
    const permit = await budget.acquire(signal);
    try {
      await destination.check(signal);
      permit.release('success');
    } catch (err) {
      permit.release('failed');
      throw err;
    }
  } finally {
    release();
  }
}
