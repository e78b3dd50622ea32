import { LocalBudgets } from '../../src/delivery/local-rate-budget.ts';
import { rateBudgetConformance } from '../conformance/rate-budget-conformance.ts';

rateBudgetConformance({ name: 'in this process (LocalBudgets)', provider: () => new LocalBudgets() });
