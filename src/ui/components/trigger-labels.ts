import type { RunSummary } from '../api.ts';

/** What started a run, in words. */
export const TRIGGER_LABELS: Record<NonNullable<RunSummary['trigger']>, string> = {
  cli: 'CLI', api: 'API / UI', schedule: 'schedule', after: 'after upstream sync', dbt: 'dbt finished',
};
