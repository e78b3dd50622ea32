import { afterEach, describe, expect, it } from 'vitest';
import type { Change, Destination } from '../../../src/destinations/destination.ts';
import { deliver, type DeliveryOptions } from '../../../src/delivery/deliver.ts';
import { SyncError } from '../../../src/errors.ts';
import { maxInWindow } from '../../fakes/http/fake-http-process.ts';
import { startHubspotFake, type HubspotFake, type HubspotFakeOptions } from '../../fakes/hubspot/hubspot-fake.ts';
import { change, hubspotFor } from './hubspot-test-kit.ts';
import type { Outcome } from '../../../src/delivery/outcome.ts';

/** The HubSpot destination driven by the real delivery engine, as a run drives it. */
let fake: HubspotFake;
async function portal(options: HubspotFakeOptions = {}): Promise<HubspotFake> {
  fake = await startHubspotFake(options);
  return fake;
}
afterEach(async () => { await fake?.close(); });

async function run(dest: Destination, changes: Change[], options: Partial<DeliveryOptions> = {}) {
  await dest.check(new AbortController().signal); // as the engine does before delivering
  const settled = new Map<string, Outcome>();
  const trace: string[] = [];
  async function* stream() {
    for (let i = 0; i < changes.length; i += 100) yield changes.slice(i, i + 100);
  }
  const promise = deliver(stream(), {
    destination: dest, batchSize: 100, signal: new AbortController().signal, ...options,
  }, {
    onSettled: async (_batch, results) => { for (const r of results) settled.set(r.key, r); },
    trace: (text) => trace.push(text),
  });
  return { promise, settled, trace };
}

describe('HubSpot through the delivery engine', () => {
  it('rejects only the bad rows, with HubSpot\'s code and field, and delivers the rest', async () => {
    await portal({ limits: { windowMax: 1000 } });
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['firstname', 'lifetime_value', 'date_of_birth', 'lifecyclestage'] });
    const good = (i: number) => change(`k${i}`, 'upsert', { email: `user${i}@example.com` }, { firstname: `User ${i}`, lifetime_value: i, date_of_birth: '1990-01-01', lifecyclestage: 'lead' });
    const changes = Array.from({ length: 250 }, (_, i) => good(i));
    const bad: Record<string, [Record<string, unknown>, string, string]> = {
      k17: [{ email: 'user17@' }, 'INVALID_EMAIL', 'email'],
      k140: [{ date_of_birth: '1990-01-01T09:00:00Z' }, 'INVALID_DATE', 'date_of_birth'],
      k188: [{ lifetime_value: 'a lot' }, 'INVALID_DOUBLE', 'lifetime_value'],
      k230: [{ lifecyclestage: 'prospect' }, 'INVALID_OPTION', 'lifecyclestage'],
    };
    for (const [key, [fields]] of Object.entries(bad)) {
      const i = Number(key.slice(1));
      const c = changes[i]!;
      if ('email' in fields) c.match = { email: fields.email as string };
      Object.assign(c.fields, fields);
    }
    const { promise, settled, trace } = await run(dest, changes, { rateLimit: { requestsPerSecond: 200 } });
    const stats = await promise;

    expect(stats).toMatchObject({ delivered: 246, rejected: 4, throttled: 0 });
    for (const [key, [, code, field]] of Object.entries(bad)) {
      expect(settled.get(key)).toMatchObject({ outcome: 'rejected', rejection: { category: 'schema_mismatch', code, field, retryable: false } });
    }
    const stored = fake.store.list('contacts');
    expect(stored).toHaveLength(246);
    const k3 = settled.get('k3');
    expect(k3?.outcome === 'delivered' && k3.destId).toBe(fake.store.findBy('contacts', 'email', 'user3@example.com')!.id);
    expect(trace.join('\n')).toMatch(/400 Bad Request .*splitting into 50 \+ 50/);
  });

  it('rejects an update of a record HubSpot does not have as missing_identifier', async () => {
    await portal({ limits: { windowMax: 1000 } });
    const deals = ['D-1', 'D-2', 'D-3'].map((id) => fake.store.seed('deals', { external_id: id, amount: '1' }));
    const dest = hubspotFor(fake, { object: 'deals', mode: 'update', match: { external_id: 'external_id' }, fields: ['amount'] });
    const { promise, settled } = await run(dest, [
      change('1', 'update', { external_id: 'D-1' }, { amount: 10 }),
      change('2', 'update', { external_id: 'D-404' }, { amount: 20 }),
      change('3', 'update', { external_id: 'D-3' }, { amount: 30 }, deals[2]!.id),
    ], { rateLimit: { requestsPerSecond: 200 } });
    expect(await promise).toMatchObject({ delivered: 2, rejected: 1 });
    expect(settled.get('2')).toMatchObject({ outcome: 'rejected', rejection: { category: 'missing_identifier', code: 'OBJECT_NOT_FOUND' } });
    expect(fake.store.get('deals', deals[0]!.id)!.properties.amount).toBe('10');
    expect(fake.store.get('deals', deals[2]!.id)!.properties.amount).toBe('30');
  });

  it('paces to the window the portal reports, above the documented 100 per 10 s, without a 429', async () => {
    // A bigger portal than documented: 60 per 2 s is 30 a second, three times HubSpot's 10.
    await portal({ limits: { windowMax: 60, windowMs: 2_000 } });
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['firstname'] });
    const changes = Array.from({ length: 150 }, (_, i) => change(`c${i}`, 'upsert', { email: `c${i}@example.com` }, { firstname: 'C' }));
    const { promise } = await run(dest, changes, { batchSize: 1 });
    expect(await promise).toMatchObject({ delivered: 150, throttled: 0 });
    const upserts = fake.requests.filter((r) => r.method === 'POST');
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
    // The documented rate would allow 20 in any 2 s; the reported window allows 60.
    expect(maxInWindow(upserts, 2_000)).toBeGreaterThan(40);
  });

  describe('a mirror batch sends a read, an archive and an upsert: three requests, three permits', () => {
    const mirror = () => hubspotFor(fake, { object: 'contacts', mode: 'mirror', match: { email: 'email' }, fields: ['firstname'] });
    /** Per batch: two contacts that left the model (looked up by email, then archived) and two upserts. */
    const batches = (count: number) => Array.from({ length: count }, (_, b) => {
      const gone = [0, 1].map((i) => fake.store.seed('contacts', { email: `gone${b}-${i}@example.com` }));
      return [
        ...gone.map((_, i) => change(`gone${b}-${i}`, 'delete', { email: `gone${b}-${i}@example.com` })),
        ...[0, 1].map((i) => change(`new${b}-${i}`, 'upsert', { email: `new${b}-${i}@example.com` }, { firstname: 'N' })),
      ];
    }).flat();

    it('a configured rate holds for every request, counted by the portal', async () => {
      await portal({ limits: { windowMax: 1000 } });
      const { promise } = await run(mirror(), batches(5), { batchSize: 4, rateLimit: { requestsPerSecond: 5, concurrency: 4 } });
      expect(await promise).toMatchObject({ delivered: 20, rejected: 0, requests: 15, apiCalls: 15 });
      const sent = fake.requests.filter((r) => r.method === 'POST');
      expect(sent.map((r) => r.path.split('/').at(-1)).sort()).toEqual([...Array(5).fill('archive'), ...Array(5).fill('read'), ...Array(5).fill('upsert')]);
      expect(maxInWindow(sent, 1_000)).toBeLessThanOrEqual(5);
      expect(fake.store.list('contacts').map((c) => c.properties.email).filter((email) => email?.startsWith('gone'))).toEqual([]);
      expect(fake.store.list('contacts')).toHaveLength(10);
    });

    it('a 429 on the upsert sends the upsert again, not the read and the archive before it', async () => {
      await portal({ limits: { windowMax: 1000, windowMs: 1_000 } });
      fake.failNext(429, 1, /\/batch\/upsert$/);
      const { promise, trace } = await run(mirror(), batches(1), { batchSize: 4 });
      expect(await promise).toMatchObject({ delivered: 4, throttled: 1, requests: 4 });
      expect(fake.requests.filter((r) => r.method === 'POST').map((r) => `${r.path.split('/').at(-1)} ${r.status}`)).toEqual([
        'read 200', 'archive 204', 'upsert 429', 'upsert 200',
      ]);
      expect(trace).toContain('batch 1 retry: 200 OK [4]');
    });
  });

  it('waits out a TEN_SECONDLY_ROLLING 429 caused by another app on the same token, then delivers', async () => {
    await portal({ limits: { windowMax: 5, windowMs: 1_000 } });
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['firstname'] });
    await dest.check(new AbortController().signal);
    // another integration spends the rest of the window
    for (let i = 0; i < 4; i++) {
      await fetch(`${fake.url}/crm/v3/properties/contacts`, { headers: { authorization: `Bearer ${fake.token}` } });
    }
    const changes = Array.from({ length: 3 }, (_, i) => change(`c${i}`, 'upsert', { email: `c${i}@example.com` }, { firstname: 'C' }));
    const { promise, trace } = await run(dest, changes, { batchSize: 1 });
    const stats = await promise;
    expect(stats.delivered).toBe(3);
    expect(stats.throttled).toBeGreaterThanOrEqual(1);
    expect(trace.join('\n')).toMatch(/429 Too Many Requests, retry in \d+ ms/);
    expect(fake.requests.filter((r) => r.status === 429).every((r) => r.policyName === 'TEN_SECONDLY_ROLLING')).toBe(true);
  });

  it('stops cleanly on the DAILY limit, saying how many rows wait for the next run', async () => {
    await portal({ limits: { dailyMax: 500 } });
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['firstname'] });
    await dest.check(new AbortController().signal);
    fake.setDailyUsed(500);
    const changes = Array.from({ length: 30 }, (_, i) => change(`c${i}`, 'upsert', { email: `c${i}@example.com` }, { firstname: 'C' }));
    const { promise, settled } = await run(dest, changes, { batchSize: 10 });
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ kind: 'quota', code: 'DAILY' });
    expect((error as Error).message).toMatch(/daily request limit is used up.*rows wait for the next run/);
    expect(settled.size).toBe(0);
    expect(fake.store.list('contacts')).toEqual([]);
  });
});
