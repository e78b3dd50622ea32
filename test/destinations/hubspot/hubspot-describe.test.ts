import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotDestinationType } from '../../../src/destinations/hubspot/hubspot-type.ts';
import { ConfigError, SyncError } from '../../../src/errors.ts';
import { startHubspotFake, type HubspotFake } from '../../fakes/hubspot/hubspot-fake.ts';
import { hubspotFor } from './hubspot-test-kit.ts';

let fake: HubspotFake;
beforeAll(async () => { fake = await startHubspotFake(); });
afterAll(async () => { await fake.close(); });
const signal = new AbortController().signal;

describe('HubSpot field types from the properties API', () => {
  it('describes each mapped property with its type, options and uniqueness', async () => {
    const dest = hubspotFor(fake, {
      object: 'contacts', mode: 'upsert', match: { email: 'email' },
      fields: ['firstname', 'lifetime_value', 'is_vip', 'date_of_birth', 'last_purchase_at', 'lifecyclestage', 'interests', 'external_id'],
    });
    const specs = Object.fromEntries((await dest.describe!(signal)).map((s) => [s.name, s]));
    expect(specs.email).toMatchObject({ type: 'email' });
    expect(specs.firstname).toMatchObject({ type: 'string', maxLength: 65_536 });
    expect(specs.lifetime_value).toMatchObject({ type: 'number' });
    expect(specs.is_vip).toMatchObject({ type: 'boolean' });
    expect(specs.date_of_birth).toMatchObject({ type: 'date' });
    expect(specs.last_purchase_at).toMatchObject({ type: 'datetime' });
    expect(specs.lifecyclestage).toMatchObject({ type: 'enum', options: expect.arrayContaining(['lead', 'customer']) });
    expect(specs.interests).toMatchObject({ type: 'string' }); // several options at once: "pricing;analytics"
    expect(specs.external_id).toMatchObject({ type: 'string', externalId: true });
    expect(Object.keys(specs)).toHaveLength(9);
  });

  it('reads an enumeration shown as a checkbox as a boolean, on companies and custom objects', async () => {
    const companies = hubspotFor(fake, { object: 'companies', mode: 'upsert', match: { external_id: 'external_id' }, fields: ['is_partner', 'industry', 'founded_on'] });
    expect(await companies.describe!(signal)).toEqual(expect.arrayContaining([
      { name: 'is_partner', type: 'boolean' },
      { name: 'industry', type: 'enum', options: ['COMPUTER_SOFTWARE', 'RETAIL', 'FINANCIAL_SERVICES', 'HOSPITALITY'] },
      { name: 'founded_on', type: 'date' },
    ]));
    const pets = hubspotFor(fake, { object: '2-1234567', mode: 'upsert', match: { pet_id: 'pet_id' }, fields: ['species', 'vaccinated', 'weight_kg'] });
    expect((await pets.describe!(signal)).map((s) => `${s.name}:${s.type}`)).toEqual(['pet_id:string', 'species:enum', 'vaccinated:boolean', 'weight_kg:number']);
  });
});

describe('HubSpot check()', () => {
  const configError = async (promise: Promise<unknown>) => {
    const error = await promise.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).kind).toBe('config');
    return (error as SyncError).message;
  };

  it('passes for a valid token, object and mapping', async () => {
    await hubspotFor(fake, { object: 'deals', mode: 'upsert', match: { external_id: 'external_id' }, fields: ['dealname', 'amount'] }).check(signal);
  });

  it('names properties the object does not have', async () => {
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['first_name', 'lastname', 'score'] });
    expect(await configError(dest.check(signal))).toMatch(/HubSpot has no properties "first_name", "score"; create them in HubSpot or fix the mapping/);
  });

  it('refuses to write read-only properties', async () => {
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['createdate'] });
    expect(await configError(dest.check(signal))).toMatch(/"createdate" is read-only/);
  });

  it('refuses to upsert by a property whose values are not unique', async () => {
    const dest = hubspotFor(fake, { object: 'companies', mode: 'upsert', match: { domain: 'domain' }, fields: ['name'] });
    expect(await configError(dest.check(signal))).toMatch(/"domain" cannot identify records: HubSpot upserts by a property with unique values/);
    // a contact's email is the one exception HubSpot makes
    await hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: [] }).check(signal);
  });

  it('says which object type is unknown', async () => {
    const dest = hubspotFor(fake, { object: '2-999', mode: 'insert', match: {}, fields: ['name'] });
    expect(await configError(dest.check(signal))).toMatch(/Unable to infer object type from: 2-999.*check the sync's "object"/);
  });

  it('refuses a sync without an object as a config error naming the sync', () => {
    expect(() => hubspotDestinationType.create({
      connection: { name: 'crm', type: 'hubspot', token: 't', baseUrl: fake.url },
      options: {} as { object: string }, // as an unvalidated config would hand it over
      sync: { name: 'no_object', model: 'm', destination: 'crm', mode: 'upsert', match: {}, mapping: {}, options: {} },
      rootDir: '/tmp',
    })).toThrow(ConfigError);
  });

  it('shares one budget between syncs of the same token and portal, without exposing the token', () => {
    const a = hubspotFor(fake, { object: 'contacts', mode: 'insert', match: {}, fields: [] });
    const b = hubspotFor(fake, { object: 'deals', mode: 'insert', match: {}, fields: [] });
    const c = hubspotFor(fake, { object: 'deals', mode: 'insert', match: {}, fields: [], token: 'pat-na1-other' });
    expect(a.budgetKey).toBe(b.budgetKey);
    expect(c.budgetKey).not.toBe(a.budgetKey);
    expect(a.budgetKey).toContain(fake.url);
    expect(a.budgetKey).not.toContain(fake.token);
  });
});
