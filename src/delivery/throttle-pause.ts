/** 429 without Retry-After: first pause, doubled per 429 in a row, up to the cap. */
const THROTTLE_PAUSE_MS = 1_000;
const THROTTLE_PAUSE_CAP_MS = 60_000;

/**
 * How long a credential pauses after a 429: the wait it asked for, or (none asked) an
 * exponential pause with jitter for the `streak`-th 429 in a row. One rule for every budget.
 */
export function throttlePause(streak: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(THROTTLE_PAUSE_CAP_MS, THROTTLE_PAUSE_MS * 2 ** (streak - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}
