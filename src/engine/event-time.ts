import type { Value } from '../sources/source.ts';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const HAS_ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/**
 * A timestamp value of a row (freshness column, event time) as epoch milliseconds, or undefined
 * when it is none. Sources hand timestamps over as ISO text (see Value); one without a zone is
 * read as UTC, as the workspace reads it. Numbers are epoch seconds (or milliseconds when too
 * large to be seconds).
 */
export function epochMsOf(value: Value | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') {
    const text = DATE_ONLY.test(value) || HAS_ZONE.test(value) ? value : `${value.replace(' ', 'T')}Z`;
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    const n = Number(value);
    return Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  return undefined;
}
