import type { RowStateUpdate } from '../../src/state/state-store.ts';

/**
 * Batch N of the crash tests: 100 rows of its own (fp = N, dest_id and match derived from the
 * key, so a mangled row shows), the shared "hot" row (fp = N), and a delete of row 0 of batch N-1.
 */
export function batchUpdates(batch: number): RowStateUpdate[] {
  const rows: RowStateUpdate[] = Array.from({ length: 100 }, (_, i) => ({
    key: `b${batch}-${i}`, fp: String(batch), status: 'delivered', destId: `d${batch}-${i}`, match: { id: `b${batch}-${i}` },
  }));
  rows.push({ key: 'hot', fp: String(batch), status: 'delivered' });
  rows.push({ key: `b${batch - 1}-0`, deleted: true });
  return rows;
}
