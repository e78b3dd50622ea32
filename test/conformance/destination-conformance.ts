import { afterAll, describe, expect, it } from 'vitest';
import type { SyncMode } from '../../src/config/project.ts';
import { OPERATIONS, type Change, type Destination, type Operation } from '../../src/destinations/destination.ts';
import { deliver } from '../../src/delivery/deliver.ts';
import type { Value } from '../../src/sources/source.ts';
import type { Outcome } from '../../src/delivery/outcome.ts';

/**
 * One suite every destination passes, through the real delivery engine.
 *
 * Records have three conformance fields: `id` (the identifier, a string), `name` (a short
 * string) and `amount` (an integer). A harness whose destination names them otherwise says
 * so in `fields`, and may make identifier values of its own (`idFor`, e.g. emails).
 */
export interface ConformanceHarness {
  name: string;
  /** Creates the destination for a sync with this mode (match: { id: <identifier field> }, mapping to the given fields). */
  create(mode: SyncMode): Promise<Destination>;
  /** What the destination now holds for our records, keyed by identifier value -> fields (conformance names or the harness's own). */
  read(): Promise<Map<string, Record<string, Value>>>;
  /** A change that the destination itself rejects (e.g. a value too long, invalid), or undefined. */
  badChange?(): Change;
  cleanup(): Promise<void>;
  /** Destination field names for the conformance fields, when they differ (e.g. { id: 'email', name: 'firstname', amount: 'amount' }). */
  fields?: { id: string; name: string; amount: string };
  /** Identifier value for record number n of this run (default `lm-conf-<run>-<n>`). */
  idFor?(n: number): string;
  /** Batch size for the deliveries (default: the destination's maxBatchSize, at most 100). */
  batchSize?: number;
}

/** Registers the conformance tests for one destination. */
export function destinationConformance(harness: ConformanceHarness): void {
  const run = Math.random().toString(36).slice(2, 8);
  const names = harness.fields ?? { id: 'id', name: 'name', amount: 'amount' };
  const idFor = harness.idFor ?? ((n: number) => `lm-conf-${run}-${n}`);
  let next = 0;
  const created: Destination[] = [];

  const make = async (mode: SyncMode) => {
    const destination = await harness.create(mode);
    created.push(destination);
    return destination;
  };
  const record = (op: Operation, n: number, name: string, amount: number): Change => {
    const id = idFor(n);
    const match = { [names.id]: id };
    return { key: `k${n}`, op, match, fields: op === 'delete' ? {} : { ...match, [names.name]: name, [names.amount]: amount } };
  };
  const fresh = (count: number) => Array.from({ length: count }, () => ++next);
  const valueOf = (held: Map<string, Record<string, Value>>, n: number, field: 'name' | 'amount') => {
    const row = held.get(idFor(n));
    return row?.[names[field]] ?? row?.[field];
  };

  describe(`destination conformance: ${harness.name}`, () => {
    afterAll(async () => {
      for (const d of created) await d.close();
      await harness.cleanup();
    });

    it('declares sane capabilities, a name, a type and a budget key', async () => {
      const d = await make('upsert');
      expect(d.name).toBeTypeOf('string');
      expect(d.type).toBeTypeOf('string');
      expect(d.budgetKey.length).toBeGreaterThan(0);
      const caps = d.capabilities;
      expect(caps.operations.length).toBeGreaterThan(0);
      for (const op of caps.operations) expect(OPERATIONS).toContain(op);
      expect(Number.isInteger(caps.maxBatchSize) && caps.maxBatchSize >= 1).toBe(true);
      expect(caps.perRecordResults).toBeTypeOf('boolean');
      if (caps.rateLimit?.requestsPerSecond !== undefined) expect(caps.rateLimit.requestsPerSecond).toBeGreaterThan(0);
      if (caps.rateLimit?.concurrency !== undefined) expect(caps.rateLimit.concurrency).toBeGreaterThanOrEqual(1);
      await d.check(AbortSignal.timeout(30_000));
    });

    it('upsert creates records, then updates them, one result per record', async (ctx) => {
      const d = await make('upsert');
      if (!d.capabilities.operations.includes('upsert')) return ctx.skip();
      const ns = fresh(3);
      const first = await push(d, ns.map((n) => record('upsert', n, `first ${n}`, n)), harness.batchSize);
      expectAllDelivered(first);
      let held = await harness.read();
      for (const n of ns) expect(valueOf(held, n, 'name')).toBe(`first ${n}`);
      const second = await push(d, [record('upsert', ns[0], 'changed', 1000), record('upsert', ns[1], `first ${ns[1]}`, ns[1])], harness.batchSize);
      expectAllDelivered(second);
      held = await harness.read();
      expect(valueOf(held, ns[0], 'name')).toBe('changed');
      expect(Number(valueOf(held, ns[0], 'amount'))).toBe(1000);
      expect(valueOf(held, ns[2], 'name')).toBe(`first ${ns[2]}`);
    });

    it('insert creates new records', async (ctx) => {
      const d = await make('insert');
      if (!d.capabilities.operations.includes('insert')) return ctx.skip();
      const ns = fresh(2);
      expectAllDelivered(await push(d, ns.map((n) => record('insert', n, `new ${n}`, n)), harness.batchSize));
      const held = await harness.read();
      for (const n of ns) expect(valueOf(held, n, 'name')).toBe(`new ${n}`);
    });

    it('update changes existing records', async (ctx) => {
      const seeder = await make('upsert');
      const d = await make('update');
      if (!d.capabilities.operations.includes('update')) return ctx.skip();
      const ns = fresh(2);
      const seedOp: Operation = seeder.capabilities.operations.includes('upsert') ? 'upsert' : 'insert';
      expectAllDelivered(await push(seeder, ns.map((n) => record(seedOp, n, `before ${n}`, n)), harness.batchSize));
      expectAllDelivered(await push(d, [record('update', ns[0], 'after', 7)], harness.batchSize));
      const held = await harness.read();
      expect(valueOf(held, ns[0], 'name')).toBe('after');
      expect(Number(valueOf(held, ns[0], 'amount'))).toBe(7);
      expect(valueOf(held, ns[1], 'name')).toBe(`before ${ns[1]}`);
    });

    it('delete removes records (mirror)', async (ctx) => {
      const d = await make('mirror');
      if (!d.capabilities.operations.includes('delete')) return ctx.skip();
      const ns = fresh(2);
      const seedOp: Operation = d.capabilities.operations.includes('upsert') ? 'upsert' : 'insert';
      expectAllDelivered(await push(d, ns.map((n) => record(seedOp, n, `doomed ${n}`, n)), harness.batchSize));
      expectAllDelivered(await push(d, [record('delete', ns[0], '', 0)], harness.batchSize));
      const held = await harness.read();
      expect(held.has(idFor(ns[0]))).toBe(false);
      expect(valueOf(held, ns[1], 'name')).toBe(`doomed ${ns[1]}`);
    });

    it('rejects a bad row alone, with the destination code, while the rest arrive', async (ctx) => {
      const bad = harness.badChange?.();
      if (!bad) return ctx.skip();
      const d = await make('upsert');
      const op: Operation = d.capabilities.operations.includes('upsert') ? 'upsert' : 'insert';
      const ns = fresh(6);
      const goods = ns.map((n) => record(op, n, `good ${n}`, n));
      const batch = [...goods.slice(0, 3), bad, ...goods.slice(3)];
      const results = await push(d, batch, harness.batchSize);
      const badResult = results.get(bad.key);
      expect(badResult?.outcome).toBe('rejected');
      if (badResult?.outcome === 'rejected') {
        expect(badResult.rejection.retryable).toBe(false);
        expect(badResult.rejection.code, 'the destination\'s own error code').toBeTruthy();
        expect(badResult.rejection.message.length).toBeGreaterThan(0);
      }
      for (const g of goods) expect(results.get(g.key)?.outcome, `record ${g.key}`).toBe('delivered');
      const held = await harness.read();
      for (const n of ns) expect(valueOf(held, n, 'name')).toBe(`good ${n}`);
    });
  });
}

/** Delivers `changes` through the delivery engine; checks one result per record. */
async function push(destination: Destination, changes: Change[], batchSize?: number): Promise<Map<string, Outcome>> {
  const results = new Map<string, Outcome>();
  let count = 0;
  async function* source() {
    yield changes;
  }
  await deliver(source(), {
    destination,
    batchSize: batchSize ?? Math.min(100, destination.capabilities.maxBatchSize),
    signal: AbortSignal.timeout(120_000),
  }, {
    async onSettled(batch, batchResults) {
      expect(batchResults.length).toBe(batch.length);
      for (const r of batchResults) {
        count++;
        expect(results.has(r.key), `two results for ${r.key}`).toBe(false);
        results.set(r.key, r);
      }
    },
    trace() {},
  });
  expect(count).toBe(changes.length);
  for (const c of changes) expect(results.has(c.key), `a result for ${c.key}`).toBe(true);
  return results;
}

function expectAllDelivered(results: Map<string, Outcome>): void {
  const failed = [...results.values()].filter((r) => r.outcome !== 'delivered');
  expect(failed, JSON.stringify(failed)).toEqual([]);
}
