import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../../src/errors.ts';
import { startHubspotFake, type HubspotFake, type HubspotFakeOptions } from '../../fakes/hubspot/hubspot-fake.ts';
import { change, hubspotFor, recordingContext } from './hubspot-test-kit.ts';

let fake: HubspotFake;
async function portal(options: HubspotFakeOptions = {}): Promise<HubspotFake> {
  fake = await startHubspotFake(options);
  return fake;
}
afterEach(async () => { await fake?.close(); });

async function failure(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SyncError);
  expect((error as Error).message).not.toContain(fake.token);
  return error as SyncError;
}

const contacts = (f: HubspotFake, fields = ['firstname']) =>
  hubspotFor(f, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields });

describe('HubSpot limits', () => {
  it('reports the rate-limit headers of every answer', async () => {
    await portal();
    const ctx = recordingContext();
    await contacts(fake).write([change('1', 'upsert', { email: 'a@example.com' })], ctx);
    expect(ctx.limits).toHaveLength(2);
    expect(ctx.limits[1]).toEqual({ limit: 100, remaining: 98, intervalMs: 10_000, dailyLimit: 250_000, dailyRemaining: 249_998 });
  });

  it('maps a TEN_SECONDLY_ROLLING 429 to rate_limited, waiting until the window has turned', async () => {
    await portal({ limits: { windowMax: 2 } });
    const dest = contacts(fake);
    const ctx = recordingContext();
    await dest.write([change('1', 'upsert', { email: 'a@example.com' })], ctx);
    const error = await failure(dest.write([change('2', 'upsert', { email: 'b@example.com' })], ctx));
    expect(error).toMatchObject({ kind: 'rate_limited', code: 'TEN_SECONDLY_ROLLING', status: 429, retryAfterMs: 10_000 });
    expect(ctx.limits.at(-1)).toMatchObject({ limit: 2, remaining: 0 });
    expect(fake.store.list('contacts')).toHaveLength(1);
  });

  it('maps a SECONDLY 429 to a one-second wait', async () => {
    await portal({ limits: { secondlyMax: 1 } });
    const dest = contacts(fake);
    const error = await failure(dest.write([change('1', 'upsert', { email: 'a@example.com' })], recordingContext()));
    expect(error).toMatchObject({ kind: 'rate_limited', code: 'SECONDLY', retryAfterMs: 1000 });
  });

  it('maps a DAILY 429 to quota: the run stops cleanly and says the rest waits', async () => {
    await portal({ limits: { dailyMax: 1000 } });
    const dest = contacts(fake);
    const ctx = recordingContext();
    await dest.write([change('1', 'upsert', { email: 'a@example.com' })], ctx);
    fake.setDailyUsed(1000);
    const error = await failure(dest.write([change('2', 'upsert', { email: 'b@example.com' })], ctx));
    expect(error).toMatchObject({ kind: 'quota', code: 'DAILY' });
    expect(error.message).toMatch(/daily API limit used: 1000\/1000\); it resets at midnight/);
    expect(ctx.limits.at(-1)).toMatchObject({ dailyLimit: 1000, dailyRemaining: 0 });
  });
});

describe('HubSpot refusals', () => {
  it('a bad token is a config error, from check() and from write()', async () => {
    await portal();
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: [], token: 'pat-na1-wrong' });
    expect(await failure(dest.check(new AbortController().signal))).toMatchObject({ kind: 'config', status: 401, code: 'INVALID_AUTHENTICATION' });
    expect(await failure(dest.write([change('1', 'upsert', { email: 'a@example.com' })], recordingContext()))).toMatchObject({ kind: 'config' });
  });

  it('a 502 or 503 is transient, and the same write then goes through', async () => {
    await portal();
    const dest = contacts(fake);
    const ctx = recordingContext();
    await dest.check(ctx.signal);
    fake.failNext(503);
    expect(await failure(dest.write([change('1', 'upsert', { email: 'a@example.com' })], ctx))).toMatchObject({ kind: 'transient', status: 503 });
    fake.failNext(502);
    expect(await failure(dest.write([change('1', 'upsert', { email: 'a@example.com' })], ctx))).toMatchObject({ kind: 'transient', status: 502 });
    expect((await dest.write([change('1', 'upsert', { email: 'a@example.com' })], ctx))[0]?.outcome).toBe('delivered');
  });

  it('an unreachable portal is transient', async () => {
    await portal();
    const dest = contacts(fake);
    await fake.close();
    expect(await failure(dest.write([change('1', 'upsert', { email: 'a@example.com' })], recordingContext()))).toMatchObject({ kind: 'transient', code: 'NETWORK' });
    fake = await startHubspotFake();
  });

  it('a batch with one invalid row is refused whole: terminal, so the engine narrows it down', async () => {
    await portal();
    const dest = contacts(fake);
    const error = await failure(dest.write([
      change('1', 'upsert', { email: 'a@example.com' }),
      change('2', 'upsert', { email: 'not-an-email' }),
    ], recordingContext()));
    expect(error).toMatchObject({ kind: 'terminal', status: 400, code: 'INVALID_EMAIL', field: 'email', category: 'schema_mismatch' });
    expect(fake.store.list('contacts')).toEqual([]);
  });

  it.each([
    ['an invalid email', 'contacts', { email: 'ada@@example' }, 'INVALID_EMAIL', 'email'],
    ['a date not at midnight UTC', 'contacts', { date_of_birth: '2000-01-01T10:30:00Z' }, 'INVALID_DATE', 'date_of_birth'],
    ['text in a number property', 'contacts', { lifetime_value: 'lots' }, 'INVALID_DOUBLE', 'lifetime_value'],
    ['text in a datetime property', 'contacts', { last_purchase_at: 'yesterday' }, 'INVALID_LONG', 'last_purchase_at'],
    ['an option that does not exist', 'contacts', { lifecyclestage: 'prospect' }, 'INVALID_OPTION', 'lifecyclestage'],
    ['a checkbox that is not true/false', 'contacts', { is_vip: 'maybe' }, 'INVALID_OPTION', 'is_vip'],
  ])('a single record with %s is rejected with HubSpot\'s code', async (_label, object, fields, code, field) => {
    await portal();
    const dest = hubspotFor(fake, { object, mode: 'upsert', match: { external_id: 'external_id' }, fields: Object.keys(fields) });
    const [result] = await dest.write([change('r', 'upsert', { external_id: 'X-1' }, fields)], recordingContext());
    expect(result).toMatchObject({ key: 'r', outcome: 'rejected', rejection: { category: 'schema_mismatch', code, field, retryable: false } });
    expect(result?.outcome === 'rejected' && result.rejection.message).not.toMatch(/destination "/);
  });

  it('updating a record that does not exist rejects it as missing_identifier', async () => {
    await portal();
    const dest = hubspotFor(fake, { object: 'deals', mode: 'update', match: { external_id: 'external_id' }, fields: ['amount'] });
    const [result] = await dest.write([change('d', 'update', { external_id: 'NOPE' }, { amount: 5 })], recordingContext());
    expect(result).toMatchObject({ outcome: 'rejected', rejection: { category: 'missing_identifier', code: 'OBJECT_NOT_FOUND', retryable: false } });
  });

  it('a row with no identifier value is rejected without a request', async () => {
    await portal();
    const dest = contacts(fake);
    const ctx = recordingContext();
    await dest.check(ctx.signal);
    const [result] = await dest.write([change('n', 'upsert', { email: null })], ctx);
    expect(result).toMatchObject({ outcome: 'rejected', rejection: { category: 'missing_identifier', message: 'no value to find the HubSpot record by, so it cannot be upserted' } });
    expect(ctx.apiCalls).toBe(0);
  });
});
