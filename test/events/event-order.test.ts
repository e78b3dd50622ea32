import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccounted } from '../engine/accounting.ts';
import { ADMIN_TOKEN, EVENTS_TOKEN, READ_TOKEN, eventsSync, startServerFixture } from '../server/server-fixture.ts';

// A sync whose events carry their time: an older value must never overwrite a newer one.
const LIVE = eventsSync('prices_live', `maxWaitMs: 10, orderBy: updated_at`);
let fx: Awaited<ReturnType<typeof startServerFixture>>;
beforeAll(async () => { fx = await startServerFixture({ rows: 10, extraSyncs: LIVE }); });
afterAll(async () => { await fx?.close(); });

const EVENTS = '/api/syncs/prices_live/events';
const price = (sku: string, amount: string, at: string) => ({ sku, price: amount, currency: 'EUR', updated_at: at });

async function outcomeOf(id: string) {
  const until = Date.now() + 15_000;
  for (;;) {
    const { json } = await fx.call('GET', `${EVENTS}/${id}`, READ_TOKEN);
    if (json?.status && json.status !== 'pending') return json;
    if (Date.now() > until) throw new Error(`event ${id} still ${json?.status ?? 'unknown'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('events ordered by events.orderBy', () => {
  it('rejects an event older than the value already delivered for its key', async () => {
    const newer = await fx.call('POST', EVENTS, EVENTS_TOKEN, price('SKU-00500', '7.00', '2026-03-02T12:00:00'));
    expect(await outcomeOf(newer.json.ids[0])).toMatchObject({ status: 'delivered' });
    const older = await fx.call('POST', EVENTS, EVENTS_TOKEN, price('SKU-00500', '6.00', '2026-03-02T11:00:00'));
    expect(await outcomeOf(older.json.ids[0])).toMatchObject({ status: 'rejected', category: 'stale_data', reason: expect.stringMatching(/older than the value already delivered/) });
    expect(fx.api.state.records.get('SKU-00500')).toMatchObject({ amount: '7.00' });
  });

  it('sends only the newest value of a key that arrives several times at once, whatever their order', async () => {
    const post = await fx.call('POST', EVENTS, EVENTS_TOKEN, [
      price('SKU-00501', '3.00', '2026-03-02T12:00:00'),
      price('SKU-00501', '2.00', '2026-03-02T10:00:00'),
      price('SKU-00502', '2.00', '2026-03-02T10:00:00'),
      price('SKU-00502', '3.00', '2026-03-02T12:00:00'),
    ]);
    const outcomes = await Promise.all(post.json.ids.map(outcomeOf));
    expect(outcomes.map((o) => o.status)).toEqual(['delivered', 'superseded', 'superseded', 'delivered']);
    expect(fx.api.state.received.filter((r) => r.key === 'SKU-00501' || r.key === 'SKU-00502').map((r) => r.amount)).toEqual(['3.00', '3.00']);
  });

  it('keeps a warehouse run from sending a value older than an event delivered', async () => {
    // The warehouse holds SKU-00002 at 2.99 as of 2026-03-01 10:00; an event brought a newer price.
    const post = await fx.call('POST', EVENTS, EVENTS_TOKEN, price('SKU-00002', '50.00', '2026-03-05T09:00:00'));
    expect(await outcomeOf(post.json.ids[0])).toMatchObject({ status: 'delivered' });
    const started = await fx.call('POST', '/api/syncs/prices_live/runs', ADMIN_TOKEN, {});
    const run = await fx.waitForRun(started.json.runId);
    expectAccounted(run.summary, { status: 'success', delivered: 9, skipped: 1 });
    expect(run.trace.map((t: { text: string }) => t.text).join('\n')).toMatch(/held back 1 rows: events delivered newer values/);
    expect(fx.api.state.records.get('SKU-00002')).toMatchObject({ amount: '50.00' });
  });
});
