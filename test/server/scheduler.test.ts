import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { SyncConfig, Schedule } from '../../src/config/project.ts';
import type { RunSummary } from '../../src/state/run-record.ts';
import { emptySummary } from '../../src/state/run-record.ts';
import { Scheduler, type Clock } from '../../src/server/scheduler.ts';

/** A clock whose time moves only when the test says; timers fire in order as it passes them. */
class FakeClock implements Clock {
  private timers: { due: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  constructor(public time: number) {}
  now = () => this.time;
  setTimer(fn: () => void, ms: number) {
    const id = this.nextId++;
    this.timers.push({ due: this.time + ms, fn, id });
    return () => { this.timers = this.timers.filter((t) => t.id !== id); };
  }
  async advance(ms: number) {
    const target = this.time + ms;
    for (;;) {
      await settle();
      const next = this.timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.due;
      next.fn();
    }
    this.time = target;
    await settle();
  }
}

async function settle() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T10:02:00Z');

function sync(name: string, schedule?: Schedule, after?: string[]): SyncConfig {
  return { name, model: 'm', destination: 'd', mode: 'upsert', match: {}, mapping: {}, options: {}, ...(schedule ? { schedule } : {}), ...(after ? { after } : {}) };
}

/**
 * The scheduler against an in-memory run history: each started run lasts `durationMs` of
 * fake time and ends with the status `outcome` gives it.
 */
function harness(syncs: SyncConfig[], options: { history?: RunSummary[]; durationMs?: number; outcome?: (sync: string) => RunSummary['status'] } = {}) {
  const clock = new FakeClock(T0);
  const history: RunSummary[] = [...(options.history ?? [])];
  const running = new Set<string>();
  const starts: { sync: string; at: number; trigger: string }[] = [];
  const paused = new Set<string>();
  let overlaps = 0;
  const scheduler: Scheduler = new Scheduler({
    syncs, clock, log: pino({ level: 'silent' }),
    isRunning: (s) => running.has(s),
    isPaused: async (s) => paused.has(s),
    lastStart: async (s) => {
      const runs = history.filter((r) => r.sync === s).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      return runs[0] ? new Date(runs[0].startedAt) : null;
    },
    lastSuccess: async (s) => {
      const ok = history.filter((r) => r.sync === s && r.status === 'success').sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      return ok[0] ? new Date(ok[0].finishedAt!) : null;
    },
    startRun: async (s, trigger) => {
      if (running.has(s)) overlaps++;
      running.add(s);
      const summary: RunSummary = { ...emptySummary(s, `run-${starts.length}`, new Date(clock.now()).toISOString()) };
      history.push(summary);
      starts.push({ sync: s, at: clock.now(), trigger });
      clock.setTimer(() => {
        running.delete(s);
        summary.status = options.outcome?.(s) ?? 'success';
        summary.finishedAt = new Date(clock.now()).toISOString();
        void scheduler.runFinished({ ...summary });
      }, options.durationMs ?? 1000);
    },
  });
  const startsOf = (s: string) => starts.filter((x) => x.sync === s).map((x) => (x.at - T0) / MIN);
  return { clock, scheduler, starts, startsOf, paused, overlaps: () => overlaps };
}

const every5m: Schedule = { every: '5m', everyMs: 5 * MIN };

describe('scheduler', () => {
  it('starts no run of a paused sync, nor of the syncs after it; resumed, it catches up once and keeps its rhythm', async () => {
    const h = harness([sync('a', every5m), sync('b', undefined, ['a'])]);
    await h.scheduler.start();
    await h.clock.advance(6 * MIN);
    expect(h.startsOf('a')).toEqual([5]);
    expect(h.startsOf('b')).toEqual([5 + 1 / 60]);
    h.paused.add('a'); // paused by another process: the armed timer finds it out
    await h.clock.advance(20 * MIN);
    expect(h.startsOf('a')).toEqual([5]);
    expect(h.scheduler.nextRunAt('a')).toBeNull();
    h.paused.delete('a');
    await h.scheduler.resumed('a');
    await h.clock.advance(6 * MIN);
    expect(h.startsOf('a')).toEqual([5, 26, 31]);
    h.paused.add('b');
    h.scheduler.paused('b');
    await h.clock.advance(5 * MIN);
    expect(h.startsOf('a')).toEqual([5, 26, 31, 36]);
    expect(h.startsOf('b')).toEqual([5 + 1 / 60, 26 + 1 / 60, 31 + 1 / 60]);
    // Each run says what started it: the schedule, or the upstream sync it runs after.
    expect(new Set(h.starts.map((x) => `${x.sync}:${x.trigger}`))).toEqual(new Set(['a:schedule', 'b:after']));
    h.scheduler.stop();
  });

  it('runs an `every` sync one interval after start, then on every interval', async () => {
    const h = harness([sync('a', every5m)]);
    await h.scheduler.start();
    expect(h.scheduler.nextRunAt('a')).toBe(new Date(T0 + 5 * MIN).toISOString());
    await h.clock.advance(16 * MIN);
    expect(h.startsOf('a')).toEqual([5, 10, 15]);
    expect(h.scheduler.nextRunAt('a')).toBe(new Date(T0 + 20 * MIN).toISOString());
    h.scheduler.stop();
  });

  it('after a restart, catches a missed run up once (not one per missed tick), then keeps the rhythm', async () => {
    const lastRun = { ...emptySummary('a', 'old', new Date(T0 - 60 * MIN).toISOString()), status: 'success' as const, finishedAt: new Date(T0 - 59 * MIN).toISOString() };
    const h = harness([sync('a', every5m)], { history: [lastRun] });
    await h.scheduler.start();
    await h.clock.advance(MIN);
    expect(h.startsOf('a')).toEqual([0]);
    await h.clock.advance(10 * MIN);
    expect(h.startsOf('a')).toEqual([0, 5, 10]);
    h.scheduler.stop();
  });

  it('waits for the rest of the interval when the last run was recent', async () => {
    const lastRun = { ...emptySummary('a', 'old', new Date(T0 - 2 * MIN).toISOString()), status: 'success' as const, finishedAt: new Date(T0 - 2 * MIN).toISOString() };
    const h = harness([sync('a', every5m)], { history: [lastRun] });
    await h.scheduler.start();
    await h.clock.advance(4 * MIN);
    expect(h.startsOf('a')).toEqual([3]);
    h.scheduler.stop();
  });

  it('runs a cron sync on its ticks, and catches up a missed tick once', async () => {
    const fresh = harness([sync('c', { cron: '*/5 * * * *' })]);
    await fresh.scheduler.start();
    await fresh.clock.advance(14 * MIN);
    expect(fresh.startsOf('c')).toEqual([3, 8, 13]); // 10:05, 10:10, 10:15 from 10:02
    fresh.scheduler.stop();

    const lastRun = { ...emptySummary('c', 'old', new Date(T0 - 3 * 60 * MIN).toISOString()), status: 'success' as const, finishedAt: new Date(T0 - 170 * MIN).toISOString() };
    const restarted = harness([sync('c', { cron: '*/5 * * * *' })], { history: [lastRun] });
    await restarted.scheduler.start();
    await restarted.clock.advance(4 * MIN);
    expect(restarted.startsOf('c')).toEqual([0, 3]);
    restarted.scheduler.stop();
  });

  it('never overlaps a run that outlasts its interval: the missed ticks become one run after it', async () => {
    const h = harness([sync('a', every5m)], { durationMs: 12 * MIN });
    await h.scheduler.start();
    await h.clock.advance(40 * MIN);
    expect(h.overlaps()).toBe(0);
    // 5 -> ends 17 (ticks at 10, 15 folded) -> 17 -> ends 29 -> 29 -> ends 41
    expect(h.startsOf('a')).toEqual([5, 17, 29]);
    h.scheduler.stop();
  });

  it('runs a dependent sync after its upstream succeeds, not after it fails', async () => {
    let upstreamStatus: RunSummary['status'] = 'success';
    const h = harness([sync('a', every5m), sync('b', undefined, ['a'])], { outcome: (s) => (s === 'a' ? upstreamStatus : 'success') });
    await h.scheduler.start();
    expect(h.scheduler.nextRunAt('b')).toBeNull();
    await h.clock.advance(6 * MIN);
    expect(h.startsOf('a')).toEqual([5]);
    expect(h.startsOf('b').length).toBe(1);
    expect(h.startsOf('b')[0]).toBeCloseTo(5 + 1000 / MIN);
    upstreamStatus = 'failed';
    await h.clock.advance(5 * MIN);
    expect(h.startsOf('a')).toEqual([5, 10]);
    expect(h.startsOf('b').length).toBe(1);
    h.scheduler.stop();
  });

  it('waits for every upstream of a sync with several', async () => {
    const h = harness([sync('a', every5m), sync('b', { every: '7m', everyMs: 7 * MIN }), sync('c', undefined, ['a', 'b'])]);
    await h.scheduler.start();
    await h.clock.advance(6 * MIN);
    expect(h.startsOf('c')).toEqual([]);
    await h.clock.advance(2 * MIN);
    expect(h.startsOf('c').length).toBe(1);
    h.scheduler.stop();
  });

  it('refuses an invalid cron pattern when the server starts, naming the sync', () => {
    expect(() => harness([sync('nightly', { cron: '61 * * * *' })])).toThrow(/sync "nightly": schedule cron "61 \* \* \* \*"/);
  });

  it('stops starting runs once stopped', async () => {
    const h = harness([sync('a', every5m)]);
    await h.scheduler.start();
    h.scheduler.stop();
    await h.clock.advance(30 * MIN);
    expect(h.starts).toEqual([]);
  });
});
