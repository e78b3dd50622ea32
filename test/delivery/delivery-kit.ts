import type { Change, Destination, RecordResult, WriteContext } from '../../src/destinations/destination.ts';
import { httpDestinationType } from '../../src/destinations/http/http-type.ts';
import { deliver, emptyStats, type DeliveryOptions, type DeliveryStats } from '../../src/delivery/deliver.ts';
import type { Outcome } from '../../src/delivery/outcome.ts';

/** `n` upserts keyed k1..kn with `{ id, name, amount }`; `name(i)` picks a name. */
export function changes(n: number, name: (i: number) => string = (i) => `row ${i}`, from = 1): Change[] {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return { key: `k${i}`, op: 'upsert' as const, match: { id: `id-${i}` }, fields: { id: `id-${i}`, name: name(i), amount: i } };
  });
}

/** Yields `all` in chunks of `chunk`. */
export async function* chunks(all: Change[], chunk = 1000): AsyncGenerator<Change[]> {
  for (let i = 0; i < all.length; i += chunk) yield all.slice(i, i + chunk);
}

/** An http destination on `url`, built through its type as the engine does. */
export function httpDestination(url: string, settings: Record<string, unknown> = {}, name = 'pricing_engine'): Destination {
  const connection = httpDestinationType.connection.parse({ url, ...settings });
  return httpDestinationType.create({
    connection: { name, type: 'http', ...connection },
    options: {},
    sync: { name: 'prices', model: 'm', destination: name, mode: 'upsert', match: { id: 'id' }, mapping: {}, options: {} },
    rootDir: process.cwd(),
  });
}

export interface Delivered {
  stats?: DeliveryStats;
  error?: unknown;
  results: Map<string, Outcome>;
  /** How many times each key was settled (must be 1). */
  settledTimes: Map<string, number>;
  traces: string[];
}

/** Runs deliver() and keeps everything it reported; never throws (the error is returned). */
export async function run(all: Change[] | AsyncIterable<Change[]>, options: Partial<DeliveryOptions> & { destination: Destination }): Promise<Delivered> {
  const out: Delivered = { results: new Map(), settledTimes: new Map(), traces: [] };
  const source = Array.isArray(all) ? chunks(all) : all;
  out.stats = emptyStats(); // filled even when the delivery stops
  try {
    await deliver(source, { batchSize: 100, signal: AbortSignal.timeout(60_000), counters: out.stats, ...options }, {
      async onSettled(batch, results) {
        if (batch.length !== results.length) throw new Error(`onSettled: ${batch.length} records, ${results.length} results`);
        for (const r of results) {
          out.results.set(r.key, r);
          out.settledTimes.set(r.key, (out.settledTimes.get(r.key) ?? 0) + 1);
        }
      },
      trace: (text) => out.traces.push(text),
    });
  } catch (err) {
    out.error = err;
  }
  return out;
}

/** Outcome counts; `deferred` only when some row was deferred. */
export function outcomes(d: Delivered): { delivered: number; rejected: number; deferred?: number } {
  const count = { delivered: 0, rejected: 0, deferred: 0 };
  for (const r of d.results.values()) count[r.outcome]++;
  const { deferred, ...rest } = count;
  return deferred ? count : rest;
}

/** A destination in memory, for engine behaviour that needs no wire (quota reports, bugs). */
export class ScriptedDestination implements Destination {
  readonly type = 'scripted';
  readonly capabilities;
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    readonly name: string,
    readonly budgetKey: string,
    private readonly behave: (batch: Change[], ctx: WriteContext, call: number) => Promise<RecordResult[]> | RecordResult[],
    capabilities: Partial<Destination['capabilities']> = {},
  ) {
    this.capabilities = { operations: ['upsert', 'insert', 'update', 'delete'] as const, maxBatchSize: 1000, perRecordResults: true, ...capabilities };
  }

  async check(): Promise<void> {}

  /** Each write is one request, under one permit. */
  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    return ctx.request(async () => {
      const call = ++this.calls;
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        return await this.behave(batch, ctx, call);
      } finally {
        this.inFlight--;
      }
    });
  }

  async close(): Promise<void> {}
}

export const allDelivered = (batch: Change[]): RecordResult[] => batch.map((c) => ({ key: c.key, outcome: 'delivered' as const }));
