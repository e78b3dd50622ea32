import type { RunStatus } from '../state/run-record.ts';

/** PRODUCT.md's exit codes of `lastmile sync`. */
export const EXIT = { ok: 0, failed: 1, rejected: 2, usage: 64 } as const;

export function exitCodeOf(status: RunStatus): number {
  if (status === 'success') return EXIT.ok;
  if (status === 'partial') return EXIT.rejected;
  return EXIT.failed;
}
