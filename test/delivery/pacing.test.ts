import { describe, expect, it } from 'vitest';
import { AdaptiveRate } from '../../src/delivery/adaptive-rate.ts';
import { backoffDelay } from '../../src/delivery/backoff.ts';
import { parseRetryAfter } from '../../src/delivery/retry-after.ts';
import { TokenBucket } from '../../src/delivery/token-bucket.ts';

/** Starts a bucket allows on a simulated clock, taking every start as soon as allowed. */
function simulate(bucket: TokenBucket, durationMs: number, jitterMs = 0): number[] {
  const starts: number[] = [];
  let now = 0;
  while (now < durationMs) {
    const wait = bucket.delay(now);
    if (wait > 0) {
      now += wait + Math.random() * jitterMs; // timers fire late, never early
      continue;
    }
    bucket.take(now);
    starts.push(now);
  }
  return starts;
}

function maxInWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

describe('token bucket', () => {
  it.each([1, 2.5, 20, 97])('never starts more than %d per sliding second, and uses at least 97%% of it', (rate) => {
    const starts = simulate(new TokenBucket(rate), 30_000, 3);
    expect(maxInWindow(starts, 1000)).toBeLessThanOrEqual(Math.ceil(rate));
    expect(starts.length / 30).toBeGreaterThanOrEqual(rate * 0.97);
  });

  it('counts a rate over the window it is defined on: 100 per 10 s, at 98 % of it despite 100 ms of lag', () => {
    const bucket = new TokenBucket(10, 10_000);
    bucket.setLag(100); // answers take 100 ms longer than the quickest: the window must allow for it
    const starts = simulate(bucket, 60_000, 3);
    expect(maxInWindow(starts, 10_000)).toBeLessThanOrEqual(100);
    expect(starts.length / 60).toBeGreaterThanOrEqual(10 * 0.98);
  });

  it('spaces starts evenly instead of bursting a second at once', () => {
    const starts = simulate(new TokenBucket(10), 2_000);
    expect(maxInWindow(starts, 100)).toBeLessThanOrEqual(2);
  });

  it('takes a new rate at once', () => {
    const bucket = new TokenBucket(10);
    simulate(bucket, 1_000);
    bucket.setRate(2);
    const later = simulate(bucket, 5_000).filter((t) => t >= 1_500);
    expect(maxInWindow(later, 1000)).toBeLessThanOrEqual(2);
  });
});

describe('backoff', () => {
  it('waits at most base × 2^attempt, capped, with full jitter', () => {
    const policy = { baseMs: 100, capMs: 1_000 };
    for (let attempt = 0; attempt < 8; attempt++) {
      const waits = Array.from({ length: 500 }, () => backoffDelay(attempt, policy));
      const ceiling = Math.min(1_000, 100 * 2 ** attempt);
      expect(Math.max(...waits)).toBeLessThanOrEqual(ceiling);
      expect(Math.min(...waits)).toBeLessThan(ceiling * 0.2); // jitter reaches down to ~0
      expect(new Set(waits).size).toBeGreaterThan(10);
    }
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:07 GMT', now)).toBe(7000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('adaptive rate', () => {
  /**
   * Simulates a destination with a token bucket of `limit`/s and `burst`, requests sent as
   * evenly as the rate says, a one-second pause after each 429 (Retry-After: 1). With `storm`,
   * the first `storm` requests are answered 429 whatever the bucket holds.
   */
  function converge(limit: number, burst: number, seconds: number, storm = 0) {
    const adaptive = new AdaptiveRate();
    const firstRate = adaptive.rate;
    let bucket = burst;
    let credit = 0;
    let pausedUntil = 0;
    let sent = 0;
    let throttled = 0;
    let servedLate = 0;
    let stormEnd = 0;
    const successes: number[] = [];
    for (let t = 0; t < seconds * 1000; t++) {
      bucket = Math.min(burst, bucket + limit / 1000);
      if (t < pausedUntil) continue;
      credit = Math.min(1, credit + adaptive.rate / 1000);
      if (credit < 1) continue;
      credit -= 1;
      sent++;
      if (sent > storm && bucket >= 1) {
        bucket--;
        if (t >= (seconds / 2) * 1000) servedLate++;
        successes.push(t);
        adaptive.onSuccess(t, true);
      } else {
        if (sent <= storm) stormEnd = t;
        throttled++;
        adaptive.onThrottle(t, 1000);
        pausedUntil = t + 1000;
      }
    }
    return { firstRate, utilization: servedLate / ((seconds / 2) * limit), throttledShare: throttled / sent, stormEnd, successes };
  }

  it.each([[20, 20], [50, 50], [50, 10], [20, 2]])('rises from a low start and serves near a limit of %d/s (burst %d) with under 3%% 429s', (limit, burst) => {
    const { firstRate, utilization, throttledShare } = converge(limit, burst, 60);
    expect(firstRate).toBeLessThan(limit / 2);
    expect(utilization).toBeGreaterThan(0.9);
    expect(throttledShare).toBeLessThan(0.03);
  });

  it('comes back within seconds after a storm of 429s: 100 requests in under 20 s of its end', () => {
    const { stormEnd, successes } = converge(20, 2, 600, 60);
    expect(successes.length).toBeGreaterThanOrEqual(100);
    expect(successes[99] - stormEnd).toBeLessThan(20_000);
  });

  it('does not grow when the rate is not what holds requests back', () => {
    const adaptive = new AdaptiveRate();
    for (let t = 0; t < 10_000; t += 10) adaptive.onSuccess(t, false);
    expect(adaptive.rate).toBe(4);
  });
});
