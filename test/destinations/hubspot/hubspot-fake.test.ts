import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubspotFake, type HubspotFake } from '../../fakes/hubspot/hubspot-fake.ts';

/** The fake answers as HubSpot's documentation says; other tests rely on it. */
let fake: HubspotFake;
beforeAll(async () => { fake = await startHubspotFake({ limits: { windowMax: 6, windowMs: 60_000 } }); });
afterAll(async () => { await fake.close(); });

async function call(path: string, body?: unknown, token = fake.token) {
  const res = await fetch(fake.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe('HubSpot fake', () => {
  it('refuses an unknown token with the 401 body and no limit headers', async () => {
    const res = await call('/crm/v3/properties/contacts', undefined, 'pat-na1-nope');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION', message: expect.stringMatching(/^Authentication credentials not found/) });
    expect(res.headers.get('x-hubspot-ratelimit-remaining')).toBeNull();
  });

  it('refuses more than 100 inputs and two inputs naming one record, whole batch', async () => {
    const inputs = Array.from({ length: 101 }, (_, i) => ({ idProperty: 'email', id: `u${i}@example.com`, properties: {} }));
    const tooMany = await call('/crm/v3/objects/contacts/batch/upsert', { inputs });
    expect(tooMany).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR' } });
    const twice = await call('/crm/v3/objects/contacts/batch/upsert', {
      inputs: [{ idProperty: 'email', id: 'a@example.com', properties: {} }, { idProperty: 'email', id: 'A@example.com', properties: {} }],
    });
    expect(twice).toMatchObject({ status: 400, body: { category: 'VALIDATION_ERROR', context: { ids: ['a@example.com'] } } });
    expect(twice.body.message).toMatch(/^Duplicate IDs found in batch input/);
    expect(fake.store.list('contacts')).toEqual([]);
  });

  it('lists every failed property in the legacy message and in errors[]', async () => {
    const res = await call('/crm/v3/objects/contacts/batch/create', {
      inputs: [{ properties: { email: 'x', nope: '1' } }],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { message: 'Email address x is invalid', code: 'INVALID_EMAIL', context: { propertyName: ['email'] } },
      { message: 'Property "nope" does not exist', code: 'PROPERTY_DOESNT_EXIST', context: { propertyName: ['nope'] } },
    ]);
    expect(JSON.parse(res.body.message.replace('Property values were not valid: ', ''))[0]).toEqual(
      { isValid: false, message: 'Email address x is invalid', error: 'INVALID_EMAIL', name: 'email' });
  });

  it('counts requests in a rolling window, then answers 429 TEN_SECONDLY_ROLLING with the headers', async () => {
    const res = await call('/crm/v3/properties/deals');
    const left = Number(res.headers.get('x-hubspot-ratelimit-remaining'));
    expect(res.headers.get('x-hubspot-ratelimit-max')).toBe('6');
    expect(res.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('60000');
    for (let i = 0; i < left; i++) expect((await call('/crm/v3/properties/deals')).status).toBe(200);
    const refused = await call('/crm/v3/properties/deals');
    expect(refused).toMatchObject({ status: 429, body: { status: 'error', errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' } });
    expect(refused.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
  });
});
