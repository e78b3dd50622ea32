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
/** Exact groups read from a store before they are folded by message pattern. */
export const EXACT_GROUP_LIMIT = 10_000;
export const GROUP_LIMIT = 200;

/** The stored form of the values a rejected row carried (plain JSON text), or null. */
export function sentJson(row: RejectedRow): string | null {
  return row.sent === undefined ? null : JSON.stringify(row.sent);
}

/** Groups rows by category, code and message (see foldGroups), biggest group first. */
export function groupRejected(rows: RejectedRow[]): RejectedGroup[] {
  return foldGroups(rows.map((row) => ({ category: row.category, ...(row.code === undefined ? {} : { code: row.code }), message: row.message, count: 1 })));
}

/**
 * Merges groups whose messages differ only in the values they quote ("amount 991.99 is above…",
 * "amount 995.99 is above…"): one group per category, code and message pattern, whose message is
 * the pattern with `…` for the values (the message itself when it stands alone). Biggest first.
 */
export function foldGroups(groups: RejectedGroup[]): RejectedGroup[] {
  const folded = new Map<string, RejectedGroup & { messages: Set<string> }>();
  for (const g of groups) {
    const pattern = messagePattern(g.message);
    const id = JSON.stringify([g.category, g.code ?? null, pattern]);
    const entry = folded.get(id);
    if (entry) {
      entry.count += g.count;
      entry.messages.add(g.message);
    } else {
      folded.set(id, { ...g, messages: new Set([g.message]) });
    }
  }
  return [...folded.values()]
    .map(({ messages, ...g }) => (messages.size > 1 ? { ...g, message: messagePattern(g.message) } : g))
    .sort((a, b) => b.count - a.count)
    .slice(0, GROUP_LIMIT);
}

/** A message with its numbers and quoted values replaced by `…`. */
export function messagePattern(message: string): string {
  return message.replace(/"[^"]*"|'[^']*'|-?\d+(?:[.,:]\d+)*/g, '…');
}
