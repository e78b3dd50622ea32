import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordResult } from '../../../src/destinations/destination.ts';
import { startHubspotFake, type HubspotFake } from '../../fakes/hubspot/hubspot-fake.ts';
import { change, hubspotFor, recordingContext } from './hubspot-test-kit.ts';

let fake: HubspotFake;
beforeEach(async () => { fake = await startHubspotFake(); });
afterEach(async () => { await fake.close(); });

const byKey = (results: RecordResult[]) => Object.fromEntries(results.map((r) => [r.key, r]));
const delivered = (r: RecordResult | undefined) => (r?.outcome === 'delivered' ? r : undefined);

describe('HubSpot upsert by a unique property', () => {
  it('creates contacts by email, then updates the same records, returning their ids', async () => {
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['firstname', 'lifetime_value', 'date_of_birth', 'is_vip'] });
    const ctx = recordingContext();
    const first = byKey(await dest.write([
      change('1', 'upsert', { email: 'ada@example.com' }, { firstname: 'Ada', lifetime_value: 12.5, date_of_birth: '1815-12-10', is_vip: true }),
      change('2', 'upsert', { email: 'Grace@Example.com' }, { firstname: 'Grace', lifetime_value: null }),
    ], ctx));
    expect(Object.values(first).map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    const ada = fake.store.findBy('contacts', 'email', 'ada@example.com')!;
    const grace = fake.store.findBy('contacts', 'email', 'grace@example.com')!;
    expect(delivered(first['1'])?.destId).toBe(ada.id);
    expect(delivered(first['2'])?.destId).toBe(grace.id);
    expect(ada.properties).toMatchObject({ firstname: 'Ada', lifetime_value: '12.5', is_vip: 'true', date_of_birth: String(Date.UTC(1815, 11, 10)) });

    const second = byKey(await dest.write([change('1', 'upsert', { email: 'ada@example.com' }, { firstname: 'Augusta Ada' }, ada.id)], ctx));
    expect(delivered(second['1'])?.destId).toBe(ada.id);
    expect(fake.store.list('contacts')).toHaveLength(2);
    expect(fake.store.get('contacts', ada.id)!.properties.firstname).toBe('Augusta Ada');
    // properties once (cached) plus one request per batch
    expect(ctx.apiCalls).toBe(3);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /crm/v3/properties/contacts',
      'POST /crm/v3/objects/contacts/batch/upsert',
      'POST /crm/v3/objects/contacts/batch/upsert',
    ]);
  });

  it('sends rows of one batch that name the same contact once, as the last of them', async () => {
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['firstname'] });
    const ctx = recordingContext();
    const results = await dest.write([
      change('a', 'upsert', { email: 'twin@example.com' }, { firstname: 'First' }),
      change('b', 'upsert', { email: 'other@example.com' }, { firstname: 'Other' }),
      change('c', 'upsert', { email: 'TWIN@example.com' }, { firstname: 'Second' }),
    ], ctx);
    const twin = fake.store.findBy('contacts', 'email', 'twin@example.com')!;
    expect(byKey(results).a).toEqual({ key: 'a', outcome: 'delivered', destId: twin.id });
    expect(byKey(results).c).toEqual({ key: 'c', outcome: 'delivered', destId: twin.id });
    expect(twin.properties.firstname).toBe('Second');
    expect(fake.requests.at(-1)).toMatchObject({ path: '/crm/v3/objects/contacts/batch/upsert', inputs: 2, status: 200 });
    expect(ctx.traces).toEqual(['1 rows name the same contacts as a later row of the batch: sent once, as the last of them']);
  });

  it('upserts a custom object by its unique id property', async () => {
    const dest = hubspotFor(fake, { object: '2-1234567', mode: 'upsert', match: { pet_id: 'pet_id' }, fields: ['pet_name', 'species', 'birthday'] });
    const results = await dest.write([
      change('p1', 'upsert', { pet_id: 'P-1' }, { pet_name: 'Rex', species: 'dog', birthday: '2020-02-29T00:00:00Z' }),
    ], recordingContext());
    const rex = fake.store.findBy('2-1234567', 'pet_id', 'P-1')!;
    expect(results).toEqual([{ key: 'p1', outcome: 'delivered', destId: rex.id }]);
    expect(rex.properties).toMatchObject({ pet_name: 'Rex', species: 'dog', birthday: String(Date.UTC(2020, 1, 29)) });
  });
});

describe('HubSpot create, update and archive', () => {
  it('inserts with batch/create and returns each new id', async () => {
    const dest = hubspotFor(fake, { object: 'companies', mode: 'insert', match: {}, fields: ['name', 'domain', 'industry'] });
    const results = byKey(await dest.write([
      change('a', 'insert', {}, { name: 'Acme', domain: 'acme.test', industry: 'RETAIL' }),
      change('b', 'insert', {}, { name: 'Globex', domain: 'globex.test' }),
    ], recordingContext()));
    const acme = fake.store.findBy('companies', 'domain', 'acme.test')!;
    const globex = fake.store.findBy('companies', 'domain', 'globex.test')!;
    expect(delivered(results.a)?.destId).toBe(acme.id);
    expect(delivered(results.b)?.destId).toBe(globex.id);
  });

  it('reports each bad insert on its own through the multi-status answer', async () => {
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'insert', match: {}, fields: ['email', 'lifecyclestage'] });
    const results = byKey(await dest.write([
      change('ok', 'insert', {}, { email: 'ok@example.com', lifecyclestage: 'lead' }),
      change('bad-option', 'insert', {}, { email: 'x@example.com', lifecyclestage: 'prospect' }),
      change('bad-email', 'insert', {}, { email: 'not-an-email' }),
    ], recordingContext()));
    expect(results.ok?.outcome).toBe('delivered');
    expect(results['bad-option']).toMatchObject({ outcome: 'rejected', rejection: { category: 'schema_mismatch', code: 'INVALID_OPTION', field: 'lifecyclestage', retryable: false } });
    expect(results['bad-email']).toMatchObject({ outcome: 'rejected', rejection: { category: 'schema_mismatch', code: 'INVALID_EMAIL', field: 'email' } });
    expect(fake.store.list('contacts').map((c) => c.properties.email)).toEqual(['ok@example.com']);
    expect(fake.requests.at(-1)?.status).toBe(207);
  });

  it('updates by remembered HubSpot id and by the identifier property', async () => {
    const deal = fake.store.seed('deals', { dealname: 'Old', external_id: 'D-1', amount: '10' });
    const other = fake.store.seed('deals', { dealname: 'Other', external_id: 'D-2' });
    const dest = hubspotFor(fake, { object: 'deals', mode: 'update', match: { external_id: 'external_id' }, fields: ['dealname', 'amount', 'closedate'] });
    const results = byKey(await dest.write([
      change('1', 'update', { external_id: 'D-1' }, { dealname: 'New', amount: 99, closedate: '2024-03-01T12:30:00.123456' }, deal.id),
      change('2', 'update', { external_id: 'D-2' }, { dealname: 'Renamed' }),
    ], recordingContext()));
    expect(delivered(results['1'])?.destId).toBe(deal.id);
    expect(delivered(results['2'])?.destId).toBe(other.id);
    expect(fake.store.get('deals', deal.id)!.properties).toMatchObject({ dealname: 'New', amount: '99', closedate: '2024-03-01T12:30:00.123Z' });
    expect(fake.store.get('deals', other.id)!.properties.dealname).toBe('Renamed');
  });

  it('archives by id, looks up ids it does not know, and counts records already gone as deleted', async () => {
    const a = fake.store.seed('contacts', { email: 'a@example.com' });
    const b = fake.store.seed('contacts', { email: 'b@example.com' });
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'mirror', match: { email: 'email' }, fields: [] });
    const ctx = recordingContext();
    const results = await dest.write([
      change('a', 'delete', { email: 'a@example.com' }, {}, a.id),
      change('b', 'delete', { email: 'B@example.com' }),
      change('gone', 'delete', { email: 'nobody@example.com' }),
    ], ctx);
    expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(fake.store.list('contacts')).toEqual([]);
    expect(fake.store.listAll('contacts').map((c) => c.id).sort()).toEqual([a.id, b.id].sort());
    expect(fake.requests.slice(-2).map((r) => r.path)).toEqual(['/crm/v3/objects/contacts/batch/read', '/crm/v3/objects/contacts/batch/archive']);
    expect(ctx.traces.join('\n')).toMatch(/looked up 2 contacts by email: 1 found/);
  });

  it('sends upserts and deletes of one mirror batch as two requests', async () => {
    const old = fake.store.seed('contacts', { email: 'old@example.com' });
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'mirror', match: { email: 'email' }, fields: ['firstname'] });
    const results = byKey(await dest.write([
      change('new', 'upsert', { email: 'new@example.com' }, { firstname: 'New' }),
      change('old', 'delete', { email: 'old@example.com' }, {}, old.id),
    ], recordingContext()));
    expect(results.new?.outcome).toBe('delivered');
    expect(results.old?.outcome).toBe('delivered');
    expect(fake.store.list('contacts').map((c) => c.properties.email)).toEqual(['new@example.com']);
  });
});
