import type { Value } from '../sources/source.ts';

/**
 * Compares two values of a sync's `orderBy` column (event time or sequence), in the canonical
 * form sources give: numbers and bigints by size, decimal text by its number, timestamps and
 * dates as their canonical text (which sorts in time order). Negative: `a` is older.
 */
export function compareOrder(a: unknown, b: unknown): number {
  if (isNumeric(a) && isNumeric(b)) {
    const x = Number(a);
    const y = Number(b);
    if (x !== y || typeof a !== 'string' || typeof b !== 'string') return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The order value as the journal can keep it (JSON: a bigint as its digits). */
export function orderValueOf(value: Value | undefined): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function isNumeric(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'bigint' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value));
}
