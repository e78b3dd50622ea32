import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, EVENTS_TOKEN, READ_TOKEN, startServerFixture } from '../server/server-fixture.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
beforeAll(async () => { fx = await startServerFixture({ rows: 20, batchSize: 50 }); });
afterAll(async () => { await fx?.close(); });

const EVENTS = '/api/syncs/prices_to_engine/events';
const price = (n: number, amount: string, extra: Record<string, unknown> = {}) =>
  ({ sku: `SKU-${String(n).padStart(5, '0')}`, competitor: 'acme', price: amount, currency: 'EUR', updated_at: '2026-03-01T10:00:00', ...extra });

/** Polls GET …/events/{id} until the event is no longer pending (bounded). */
async function outcomeOf(id: string, sync = 'prices_to_engine') {
  const until = Date.now() + 15_000;
  for (;;) {
    const { json } = await fx.call('GET', `/api/syncs/${sync}/events/${id}`, READ_TOKEN);
    if (json?.status && json.status !== 'pending') return json;
    if (Date.now() > until) throw new Error(`event ${id} still ${json?.status ?? 'unknown'}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('POST /api/syncs/{sync}/events', () => {
  it('delivers one row through the sync\'s mapping, and answers its outcome and latency', async () => {
    const post = await fx.call('POST', EVENTS, EVENTS_TOKEN, price(900, '12.50'));
    expect(post.status).toBe(202);
    expect(post.json.accepted).toBe(1);
    expect(await outcomeOf(post.json.ids[0])).toMatchObject({ status: 'delivered', key: 'SKU-00900' });
    expect(fx.api.state.records.get('SKU-00900')).toMatchObject({ id: 'SKU-00900', amount: '12.50', currency: 'EUR', source: 'scraper' });
    const summary = await fx.call('GET', EVENTS, READ_TOKEN);
    expect(summary.json).toMatchObject({ open: true, counts: { delivered: 1 } });
    expect(summary.json.latencyMs.p50).toBeGreaterThanOrEqual(0);
  });

  it('sends nothing for a row whose fingerprint equals the state\'s', async () => {
    const before = fx.api.state.received.length;
    const post = await fx.call('POST', EVENTS, ADMIN_TOKEN, [price(900, '12.5')]);
    expect(post.status).toBe(202);
    expect(await outcomeOf(post.json.ids[0])).toMatchObject({ status: 'unchanged' });
    expect(fx.api.state.received.length).toBe(before);
    // Settled before its POST was answered (nothing to send), yet journaled after it was accepted:
    // a settled line that came first would leave the event pending at the next start.
    const lines = (await readFile(path.join(fx.dir, '.lastmile', 'events', 'prices_to_engine.events.ndjson'), 'utf8'))
      .trim().split('\n').map((line) => JSON.parse(line) as { a?: string; s?: string });
    const id = post.json.ids[0];
    expect(lines.findIndex((l) => l.a === id)).toBeGreaterThanOrEqual(0);
    expect(lines.findIndex((l) => l.s === id)).toBeGreaterThan(lines.findIndex((l) => l.a === id));
  });

  it('refuses a request with a row that is not the model\'s (400), taking none of it', async () => {
    const before = fx.api.state.received.length;
    const unknown = await fx.call('POST', EVENTS, EVENTS_TOKEN, [price(901, '3.00'), price(902, '4.00', { colour: 'red' })]);
    expect(unknown.status).toBe(400);
    expect(unknown.json.message).toMatch(/event 2 of 2: unknown column "colour"/);
    const noKey = await fx.call('POST', EVENTS, EVENTS_TOKEN, { price: '1.00', currency: 'EUR' });
    expect(noKey.status).toBe(400);
    expect(noKey.json.message).toMatch(/primary key column "sku" is missing/);
    const badValue = await fx.call('POST', EVENTS, EVENTS_TOKEN, price(903, 'cheap'));
    expect(badValue.status).toBe(400);
    expect(badValue.json.message).toMatch(/column "price" \(decimal\): "cheap" is not a decimal number/);
    await new Promise((r) => setTimeout(r, 100));
    expect(fx.api.state.received.length).toBe(before);
    expect(fx.api.state.records.has('SKU-00901')).toBe(false);
  });

  it('shows a row the destination refused as rejected, with the destination\'s reason', async () => {
    const post = await fx.call('POST', EVENTS, EVENTS_TOKEN, price(904, '999.00'));
    const outcome = await outcomeOf(post.json.ids[0]);
    expect(outcome).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/above the ceiling of 990.00/) });
    const summary = await fx.call('GET', EVENTS, READ_TOKEN);
    expect(summary.json.rejected[0]).toMatchObject({ key: 'SKU-00904', status: 'rejected' });
  });

  it('needs a token with the events or admin role', async () => {
    expect((await fx.call('POST', EVENTS, null, price(905, '1.00'))).status).toBe(401);
    const read = await fx.call('POST', EVENTS, READ_TOKEN, price(905, '1.00'));
    expect(read.status).toBe(403);
    expect(read.json.message).toMatch(/pushing events needs a token with the events or admin role/);
    const events = await fx.call('POST', '/api/syncs/prices_to_engine/runs', EVENTS_TOKEN, {});
    expect(events.status).toBe(403);
  });

  it('delivers many rows in few requests (micro-batches)', async () => {
    const before = fx.api.state.requests;
    const rows = Array.from({ length: 120 }, (_, i) => price(1000 + i, `${i + 1}.00`));
    const post = await fx.call('POST', EVENTS, EVENTS_TOKEN, rows);
    expect(post.status).toBe(202);
    for (const id of post.json.ids) expect((await outcomeOf(id)).status).toBe('delivered');
    expect(fx.api.state.requests - before).toBeLessThanOrEqual(4); // 120 rows, batches of 50
    expect(fx.api.state.records.get('SKU-01119')).toMatchObject({ amount: '120.00' });
  });

  it('updates the sync\'s state: the next warehouse run does not send the key again', async () => {
    // The warehouse holds SKU-00003 at 3.99; an event brings the same values first.
    const post = await fx.call('POST', EVENTS, EVENTS_TOKEN, price(3, '3.99'));
    expect(await outcomeOf(post.json.ids[0])).toMatchObject({ status: 'delivered' });
    const sentBefore = fx.api.state.received.filter((r) => r.key === 'SKU-00003').length;
    const started = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, {});
    const run = await fx.waitForRun(started.json.runId);
    expect(run.summary).toMatchObject({ status: 'success', delivered: 19, unchanged: 1 });
    expect(fx.api.state.received.filter((r) => r.key === 'SKU-00003').length).toBe(sentBefore);
    // And the other way: what the run delivered, an equal event does not send again.
    const again = await fx.call('POST', EVENTS, EVENTS_TOKEN, price(4, '4.99'));
    expect(await outcomeOf(again.json.ids[0])).toMatchObject({ status: 'unchanged' });
  });
});
