import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_TOKEN, READ_TOKEN, eventsSync, startServerFixture } from '../server/server-fixture.ts';

// maxWaitMs of a minute: an event that waited for its batch to fill could not be delivered within these tests' polls.
const PATIENT = eventsSync('prices_patient', `maxWaitMs: 60000`);
let fx: Awaited<ReturnType<typeof startServerFixture>>;
beforeAll(async () => { fx = await startServerFixture({ rows: 5, batchSize: 10, extraSyncs: PATIENT }); });
afterAll(async () => { await fx?.close(); });

const EVENTS = '/api/syncs/prices_patient/events';
const row = (n: number) => ({ sku: `SKU-${String(n).padStart(5, '0')}`, price: `${n}.00`, currency: 'EUR' });

async function statusOf(ids: string[]) {
  return Promise.all(ids.map(async (id) => (await fx.call('GET', `${EVENTS}/${id}`, READ_TOKEN)).json?.status as string));
}

describe('events micro-batching', () => {
  it('sends an event at once when no batch is out, instead of waiting maxWaitMs for companions', async () => {
    const post = await fx.call('POST', EVENTS, EVENTS_TOKEN, row(100));
    expect(post.status).toBe(202);
    await expect.poll(() => statusOf(post.json.ids), { timeout: 10_000, interval: 20 }).toEqual(['delivered']);
  });

  it('gathers the events that arrive while a batch is out, and sends them together once it is answered', async () => {
    let open!: () => void;
    fx.api.state.gate = new Promise<void>((resolve) => (open = resolve)); // the destination holds its answers
    const requestsBefore = fx.api.state.requests;
    const first = await fx.call('POST', EVENTS, EVENTS_TOKEN, row(200));
    await expect.poll(() => fx.api.state.requests, { timeout: 10_000, interval: 10 }).toBe(requestsBefore + 1); // out, unanswered
    const later = await Promise.all([201, 202, 203].map((n) => fx.call('POST', EVENTS, EVENTS_TOKEN, row(n))));
    const laterIds = later.flatMap((p) => p.json.ids as string[]);
    expect(await statusOf(laterIds)).toEqual(['pending', 'pending', 'pending']);
    fx.api.state.gate = undefined;
    open();
    await expect.poll(() => statusOf([...first.json.ids, ...laterIds]), { timeout: 10_000, interval: 20 })
      .toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
    expect(fx.api.state.requests - requestsBefore).toBe(2); // the first alone, the three that waited in one request
    expect(fx.api.state.records.get('SKU-00203')).toMatchObject({ amount: '203.00' });
  });
});
