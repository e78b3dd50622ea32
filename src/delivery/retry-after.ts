/**
 * Reads an HTTP `Retry-After` value: delay-seconds (`120`, also `1.5`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`). Answers milliseconds from `now`, or undefined when
 * the value is absent or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
