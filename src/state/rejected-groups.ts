import type { RejectCategory } from '../destinations/destination.ts';
import type { RejectedRow } from './run-record.ts';

/** Rejected rows that share a category, the destination's code and its message, with how many there are. */
export interface RejectedGroup {
  category: RejectCategory;
  code?: string;
  message: string;
  count: number;
}

/** Most groups an answer lists: beyond that, messages carry row-specific text and a list helps nobody. */
export const GROUP_LIMIT = 200;

/** The stored form of the values a rejected row carried (plain JSON text), or null. */
export function sentJson(row: RejectedRow): string | null {
  return row.sent === undefined ? null : JSON.stringify(row.sent);
}

/** Groups rows by category, code and message, biggest group first. */
export function groupRejected(rows: RejectedRow[]): RejectedGroup[] {
  const groups = new Map<string, RejectedGroup>();
  for (const row of rows) {
    const id = JSON.stringify([row.category, row.code ?? null, row.message]);
    const group = groups.get(id);
    if (group) group.count++;
    else groups.set(id, { category: row.category, ...(row.code === undefined ? {} : { code: row.code }), message: row.message, count: 1 });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, GROUP_LIMIT);
}
