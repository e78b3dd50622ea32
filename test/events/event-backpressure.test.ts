import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_TOKEN, READ_TOKEN, eventsSync, startServerFixture } from '../server/server-fixture.ts';

const SMALL_QUEUE = eventsSync('prices_small_queue', `maxWaitMs: 10, queueSize: 20`);
let fx: Awaited<ReturnType<typeof startServerFixture>>;
beforeAll(async () => { fx = await startServerFixture({ rows: 5, batchSize: 10, extraSyncs: SMALL_QUEUE }); });
afterAll(async () => { await fx?.close(); });

const EVENTS = '/api/syncs/prices_small_queue/events';
const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ sku: `SKU-${String(from + i).padStart(5, '0')}`, price: `${from + i}.00`, currency: 'EUR' }));

async function settled(ids: string[]) {
  const until = Date.now() + 15_000;
  for (;;) {
    const answers = await Promise.all(ids.map(async (id) => (await fx.call('GET', `${EVENTS}/${id}`, READ_TOKEN)).json?.status));
    if (answers.every((s) => s && s !== 'pending')) return answers;
    if (Date.now() > until) throw new Error(`events still pending: ${answers.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('events back-pressure', () => {
  it('answers 429 with Retry-After when the queue is full, takes nothing of that request, and drops nothing', async () => {
    let open!: () => void;
    fx.api.state.gate = new Promise<void>((resolve) => (open = resolve)); // the destination answers nothing yet
    const first = await fx.call('POST', EVENTS, EVENTS_TOKEN, rows(100, 15));
    expect(first.status).toBe(202);
    const refused = await fx.call('POST', EVENTS, EVENTS_TOKEN, rows(200, 10));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.json.message).toMatch(/15 events wait for destination "pricing_engine" \(events.queueSize 20\); nothing of this request was taken/);
    const summary = await fx.call('GET', EVENTS, READ_TOKEN);
    expect(summary.json).toMatchObject({ queueSize: 20 });
    expect(summary.json.queued + summary.json.inFlight).toBe(15);

    open();
    fx.api.state.gate = undefined;
    expect(await settled(first.json.ids)).toEqual(Array(15).fill('delivered'));
    const again = await fx.call('POST', EVENTS, EVENTS_TOKEN, rows(200, 10));
    expect(again.status).toBe(202);
    expect(await settled(again.json.ids)).toEqual(Array(10).fill('delivered'));
    for (const row of [...rows(100, 15), ...rows(200, 10)]) expect(fx.api.state.records.get(row.sku)).toMatchObject({ amount: row.price });
    const metrics = await fx.call('GET', '/metrics', null);
    expect(metrics.text).toMatch(/lastmile_events_refused_total\{sync="prices_small_queue"\} 1/);
    expect(metrics.text).toMatch(/lastmile_event_latency_seconds\{quantile="0.99",sync="prices_small_queue"\} \d/);
  });
});
