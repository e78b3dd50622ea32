import { expect } from 'vitest';
import type { RunSummary } from '../../src/state/run-record.ts';

/**
 * Checks PRODUCT.md's identity on a run summary, `toSync = delivered + rejected + deferred +
 * skipped`, and the counts given (outcome counts not given must be 0).
 */
export function expectAccounted(summary: RunSummary, expected: Partial<RunSummary> = {}): RunSummary {
  const { toSync, delivered, rejected, deferred, skipped } = summary;
  expect(delivered + rejected + deferred + skipped, `to sync ${toSync} = delivered ${delivered} + rejected ${rejected} + deferred ${deferred} + skipped ${skipped}`).toBe(toSync);
  expect(summary).toMatchObject({ delivered: 0, rejected: 0, deferred: 0, skipped: 0, ...expected });
  return summary;
}
