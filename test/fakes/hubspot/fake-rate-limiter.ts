/**
 * HubSpot's limits for one private app token: a rolling window (100 requests per 10 s for
 * Free/Starter private apps) and a daily quota, both reported on every answer through the
 * X-HubSpot-RateLimit-* headers. A refused request does not count against the window.
 */
export interface RateLimitSettings {
  /** Requests allowed in one rolling window. */
  windowMax: number;
  windowMs: number;
  dailyMax: number;
  /** Optional per-second cap (policy SECONDLY), off unless set. */
  secondlyMax?: number;
}

export type LimitVerdict =
  | { ok: true; headers: Record<string, string> }
  | { ok: false; policyName: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY'; headers: Record<string, string> };

interface TokenUsage {
  accepted: number[];
  dailyUsed: number;
}

export class FakeRateLimiter {
  private readonly usage = new Map<string, TokenUsage>();

  constructor(
    readonly settings: RateLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request for `token` if its limits allow it. */
  admit(token: string): LimitVerdict {
    const usage = this.usageOf(token);
    const now = this.now();
    this.prune(usage, now);
    const { windowMax, dailyMax, secondlyMax } = this.settings;
    let refused: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY' | undefined;
    if (usage.dailyUsed >= dailyMax) refused = 'DAILY';
    else if (usage.accepted.length >= windowMax) refused = 'TEN_SECONDLY_ROLLING';
    else if (secondlyMax !== undefined && usage.accepted.filter((t) => t > now - 1000).length >= secondlyMax) refused = 'SECONDLY';
    if (refused) return { ok: false, policyName: refused, headers: this.headers(usage) };
    usage.accepted.push(now);
    usage.dailyUsed += 1;
    return { ok: true, headers: this.headers(usage) };
  }

  /** Milliseconds until the oldest request in the window leaves it. */
  msUntilWindowFrees(token: string): number {
    const usage = this.usageOf(token);
    const now = this.now();
    this.prune(usage, now);
    const oldest = usage.accepted[0];
    return oldest === undefined ? 0 : Math.max(0, oldest + this.settings.windowMs - now);
  }

  /** The headers of an answer given when someone else spent the whole window. */
  spent(token: string): Record<string, string> {
    return { ...this.headers(this.usageOf(token)), 'X-HubSpot-RateLimit-Remaining': '0' };
  }

  setDailyUsed(token: string, used: number): void {
    this.usageOf(token).dailyUsed = used;
  }

  dailyUsed(token: string): number {
    return this.usageOf(token).dailyUsed;
  }

  private headers(usage: TokenUsage): Record<string, string> {
    const { windowMax, windowMs, dailyMax } = this.settings;
    return {
      'X-HubSpot-RateLimit-Max': String(windowMax),
      'X-HubSpot-RateLimit-Remaining': String(Math.max(0, windowMax - usage.accepted.length)),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(windowMs),
      'X-HubSpot-RateLimit-Daily': String(dailyMax),
      'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, dailyMax - usage.dailyUsed)),
    };
  }

  private prune(usage: TokenUsage, now: number): void {
    const since = now - this.settings.windowMs;
    let drop = 0;
    while (drop < usage.accepted.length && usage.accepted[drop]! <= since) drop++;
    if (drop) usage.accepted.splice(0, drop);
  }

  private usageOf(token: string): TokenUsage {
    let usage = this.usage.get(token);
    if (!usage) this.usage.set(token, (usage = { accepted: [], dailyUsed: 0 }));
    return usage;
  }
}
