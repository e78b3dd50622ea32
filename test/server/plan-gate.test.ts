import { describe, expect, it } from 'vitest';
import { PlanGate, PlansBusyError } from '../../src/server/plan-gate.ts';

/** Plans that finish only when the test says so. */
function controllablePlans() {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const compute = (sync: string) => new Promise<unknown>((resolve) => {
    started.push(sync);
    finish.set(sync, () => resolve({ sync }));
  });
  return { started, finish: (sync: string) => finish.get(sync)!(), compute };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('PlanGate', () => {
  it('computes two at a time, queues one more, shares a plan already asked for, refuses the rest', async () => {
    const plans = controllablePlans();
    const running: number[] = [];
    const gate = new PlanGate(plans.compute, { concurrency: 2, queue: 1, onRunning: (n) => running.push(n) });

    const a = gate.plan('a');
    const b = gate.plan('b');
    const c = gate.plan('c');
    const again = gate.plan('a');
    expect(again).toBe(a);
    const refused = (() => { try { gate.plan('d'); } catch (error) { return error; } })();
    expect(refused).toBeInstanceOf(PlansBusyError);
    expect((refused as PlansBusyError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    await tick();
    expect(plans.started).toEqual(['a', 'b']);

    plans.finish('a');
    await expect(a).resolves.toEqual({ sync: 'a' });
    await tick();
    expect(plans.started).toEqual(['a', 'b', 'c']);
    // A finished plan is not kept: asking again computes it anew, now that there is room.
    const fresh = gate.plan('a');
    expect(fresh).not.toBe(a);
    plans.finish('b');
    plans.finish('c');
    await Promise.all([b, c]);
    await tick();
    plans.finish('a');
    await fresh;
    expect(Math.max(...running)).toBe(2);
    expect(running.at(-1)).toBe(0);
  });

  it('a failed plan frees its place and is not shared afterwards', async () => {
    let calls = 0;
    const gate = new PlanGate(async () => {
      calls++;
      throw new Error('source down');
    }, { concurrency: 1, queue: 0 });
    await expect(gate.plan('a')).rejects.toThrow('source down');
    await expect(gate.plan('a')).rejects.toThrow('source down');
    expect(calls).toBe(2);
  });
});
