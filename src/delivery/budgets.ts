import { LocalBudgets } from './local-rate-budget.ts';
import type { BudgetLimits, BudgetProvider, RateBudget } from './rate-budget.ts';

/**
 * Where deliveries get their rate budgets. In this process by default; a process that shares
 * budgets with others (workers on several machines, one store) installs its provider first.
 */
let provider: BudgetProvider = new LocalBudgets();

/** Makes `next` the source of every budget asked for from now on; answers the provider it replaced. */
export function useBudgetProvider(next: BudgetProvider): BudgetProvider {
  const previous = provider;
  provider = next;
  return previous;
}

/**
 * The shared budget of a credential (`destination.budgetKey`), with `limits` in force until
 * the returned release() is called (at the end of the delivery).
 */
export function budgetFor(key: string, limits: BudgetLimits = {}): { budget: RateBudget; release: () => void } {
  const budget = provider.budget(key);
  return { budget, release: budget.lease(limits) };
}
