const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `5m`, `1h`, `1d`, or parts together (`1h30m`); never zero. */
export const DURATION_PATTERN = /^(?=.*[1-9])(\d+[smhd])+$/;

/** Milliseconds in a duration like `5m` or `1h30m`; undefined when it is not one (or is zero). */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhd])/g)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}
