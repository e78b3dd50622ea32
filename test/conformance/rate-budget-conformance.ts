import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BudgetProvider, Permit, RateBudget } from '../../src/delivery/rate-budget.ts';
import { SyncError } from '../../src/errors.ts';
import { maxInWindow } from '../fakes/http/fake-http-process.ts';

/**
 * What every rate budget does, whoever keeps its state (this process, or a store shared by
 * several): one budget per credential, the concurrency and rate of the smallest lease, a 429's
 * pause for everyone, the window a destination reports, a daily quota's reserve. Each test uses
 * a key of its own.
 */
export interface RateBudgetHarness {
  name: string;
  provider(): BudgetProvider | Promise<BudgetProvider>;
  cleanup?(): Promise<void>;
}

export function rateBudgetConformance(h: RateBudgetHarness): void {
  describe(`rate budget conformance: ${h.name}`, () => {
    let provider: BudgetProvider;
    const signal = new AbortController().signal;
    const fast = { requestsPerSecond: 10_000 };
    let n = 0;
    /** A budget for a credential no other test uses, with `limits` leased until the test ends. */
    const leased: (() => void)[] = [];
    const budget = (limits: Parameters<RateBudget['lease']>[0] = {}, key = `conformance-${process.pid}-${Date.now()}-${++n}`): RateBudget => {
      const b = provider.budget(key);
      leased.push(b.lease(limits));
      return b;
    };
    /** Takes `count` permits as fast as `b` gives them, each released at once; answers when each was given. */
    const starts = async (b: RateBudget, count: number): Promise<{ at: number }[]> => {
      const out: { at: number }[] = [];
      for (let i = 0; i < count; i++) {
        const permit = await b.acquire(signal);
        out.push({ at: Date.now() });
        permit.release('success');
      }
      return out;
    };
    const pending = <T>(promise: Promise<T>) => {
      const state = { done: false, value: undefined as T | undefined };
      void promise.then((value) => Object.assign(state, { done: true, value }), () => { state.done = true; });
      return state;
    };

    beforeAll(async () => { provider = await h.provider(); });
    afterAll(async () => {
      for (const release of leased.splice(0)) release();
      await h.cleanup?.();
    });

    it('one budget per credential: what one handle holds, another handle of the key sees', async () => {
      const key = `conformance-shared-${process.pid}-${Date.now()}`;
      const a = budget({ ...fast, concurrency: 1 }, key);
      const b = provider.budget(key);
      const held = await a.acquire(signal);
      expect(b.inFlight).toBe(1);
      const next = pending(b.acquire(signal));
      await sleep(50);
      expect(next.done).toBe(false);
      held.release('success');
      await expect.poll(() => next.done).toBe(true);
      (next.value as Permit).release('success');
      const other = budget({ ...fast, concurrency: 1 });
      (await other.acquire(signal)).release('success'); // another key: not held up
    });

    it('concurrency: never more permits held than the smallest lease allows; a release lets the next one go', async () => {
      const b = budget({ ...fast, concurrency: 3 });
      const release = b.lease({ concurrency: 2 });
      expect(b.concurrency).toBe(2);
      const first = await b.acquire(signal);
      const second = await b.acquire(signal);
      const third = pending(b.acquire(signal));
      await sleep(50);
      expect(third.done).toBe(false);
      expect(b.inFlight).toBe(2);
      first.release('success');
      await expect.poll(() => third.done).toBe(true);
      expect(b.inFlight).toBe(2);
      release();
      expect(b.concurrency).toBe(3);
      second.release('success');
      (third.value as Permit).release('failed');
      expect(b.inFlight).toBe(0);
    });

    it('a permit released twice frees one slot; an aborted wait takes none', async () => {
      const b = budget({ ...fast, concurrency: 1 });
      const permit = await b.acquire(signal);
      const controller = new AbortController();
      const waiting = b.acquire(controller.signal);
      controller.abort(new Error('stopped'));
      await expect(waiting).rejects.toThrow('stopped');
      permit.release('success');
      permit.release('success');
      expect(b.inFlight).toBe(0);
      const again = await b.acquire(signal);
      const blocked = pending(b.acquire(AbortSignal.timeout(200)));
      await sleep(50);
      expect(blocked.done).toBe(false);
      expect(b.inFlight).toBe(1);
      again.release('success');
    });

    it('a configured rate: never more starts than that in any second, for all its users together', async () => {
      const key = `conformance-rate-${process.pid}-${Date.now()}`;
      const a = budget({ requestsPerSecond: 10, concurrency: 8 }, key);
      const b = budget({ requestsPerSecond: 20 }, key); // the smallest rate wins
      expect(a.mode).toBe('configured');
      expect(b.requestsPerSecond).toBe(10);
      const [one, two] = await Promise.all([starts(a, 12), starts(b, 12)]);
      expect(maxInWindow([...one, ...two], 1_000)).toBeLessThanOrEqual(10);
    });

    it('a 429 pauses every request on the credential for the wait it asked', async () => {
      const b = budget({ ...fast });
      const permit = await b.acquire(signal);
      permit.release('throttled');
      const asked = Date.now();
      const wait = b.throttled(300);
      expect(wait).toBeGreaterThan(250);
      (await b.acquire(signal)).release('success');
      expect(Date.now() - asked).toBeGreaterThanOrEqual(wait - 1); // timers have whole milliseconds
    });

    it('paces to the window the destination reports: no more than it allows in any window of its length', async () => {
      const b = budget({ concurrency: 8 });
      b.observe({ limit: 5, remaining: 5, intervalMs: 1_000 });
      expect(b.mode).toBe('reported');
      expect(maxInWindow(await starts(b, 12), 1_000)).toBeLessThanOrEqual(5);
    });

    it('a documented rate is a default; nothing known means the adaptive search', () => {
      expect(budget().mode).toBe('adaptive');
      const declared = budget({ declared: { requestsPerSecond: 10, windowMs: 10_000 } });
      expect(declared.mode).toBe('declared');
      expect(declared.requestsPerSecond).toBe(10);
    });

    it('stops at a daily quota\'s reserve with a quota error; a request finishing a write under way still goes', async () => {
      const b = budget({ ...fast });
      b.observe({ dailyLimit: 1_000, dailyRemaining: 25 }); // 2 % of 1,000 is kept: 5 left to use
      await starts(b, 5);
      const refused = await b.acquire(signal).then(() => undefined, (error: unknown) => error);
      expect(refused).toBeInstanceOf(SyncError);
      expect(refused).toMatchObject({ kind: 'quota', category: 'rate_limit' });
      expect((refused as Error).message).toContain('980 of 1,000 used, 20 kept in reserve');
      (await b.acquire(signal, { finishing: true })).release('success');
      expect(b.inFlight).toBe(0);
    });

    it('a lease sets the reserve: 0 uses the quota to the end', async () => {
      const b = budget({ ...fast, dailyReserve: 0 });
      b.observe({ dailyLimit: 1_000, dailyRemaining: 3 });
      await starts(b, 3);
      await expect(b.acquire(signal)).rejects.toMatchObject({ kind: 'quota' });
    });

    it('an observation older than the last one changes nothing', async () => {
      const b = budget({ ...fast });
      const now = Date.now();
      b.observe({ dailyLimit: 1_000, dailyRemaining: 21, at: now });
      b.observe({ dailyLimit: 1_000, dailyRemaining: 900, at: now - 5_000 }); // read before the other
      await starts(b, 1);
      await expect(b.acquire(signal)).rejects.toMatchObject({ kind: 'quota' });
    });
  });
}
