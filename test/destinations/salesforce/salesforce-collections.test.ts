import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordResult } from '../../../src/destinations/destination.ts';
import type { FakeSalesforce } from '../../fakes/salesforce/fake-salesforce.ts';
import { byKey, contact, contactDestination, recordingContext, startOrg } from './salesforce-harness.ts';

let fake: FakeSalesforce;
beforeEach(async () => { ({ fake } = await startOrg()); });
afterEach(() => fake.close());

const rejection = (result: RecordResult | undefined) => (result?.outcome === 'rejected' ? result.rejection : undefined);

describe('Salesforce sObject Collections', () => {
  it('upserts by external id: creates, then updates, and answers the Salesforce Ids', async () => {
    const destination = contactDestination(fake);
    const existing = fake.seed('Contact', { LastName: 'Lovelace', Email: 'ada@example.com' });
    const ctx = recordingContext();
    const results = byKey(await destination.write([
      contact('upsert', 'ada@example.com', { LastName: 'King', Level__c: 'Primary' }),
      contact('upsert', 'grace@example.com', { LastName: 'Hopper', Score__c: 97.5, Birthdate: '1906-12-09' }),
    ], ctx));
    expect(results.get('ada@example.com')).toEqual({ key: 'ada@example.com', outcome: 'delivered', destId: existing });
    const grace = results.get('grace@example.com');
    expect(grace?.outcome).toBe('delivered');
    const stored = fake.records('Contact');
    expect(stored).toHaveLength(2);
    expect(stored.find((record) => record.Id === existing)).toMatchObject({ LastName: 'King', Level__c: 'Primary' });
    expect(stored.find((record) => record.Email === 'grace@example.com')).toMatchObject({ LastName: 'Hopper', Score__c: 97.5, Birthdate: '1906-12-09', Id: grace?.outcome === 'delivered' ? grace.destId : 'none' });
    // One upsert request (plus the token and describe) for the batch.
    expect(fake.calls(/\/composite\/sobjects\/Contact\/Email$/)).toHaveLength(1);
    expect(ctx.apiCalls).toBe(3);
  });

  it('inserts, updates by remembered Id and deletes by remembered Id', async () => {
    const destination = contactDestination(fake, { mode: 'insert' });
    const inserted = await destination.write([contact('insert', 'ada@example.com'), contact('insert', 'alan@example.com')], recordingContext());
    const ids = new Map(inserted.map((result) => [result.key, result.outcome === 'delivered' ? result.destId! : '']));
    expect([...ids.values()].every((id) => /^003[a-zA-Z0-9]{15}$/.test(id))).toBe(true);

    const updated = await destination.write([contact('update', 'ada@example.com', { FirstName: 'Ada' }, ids.get('ada@example.com'))], recordingContext());
    expect(updated).toEqual([{ key: 'ada@example.com', outcome: 'delivered', destId: ids.get('ada@example.com') }]);
    expect(fake.records('Contact').find((record) => record.Id === ids.get('ada@example.com'))?.FirstName).toBe('Ada');

    const deleted = await destination.write([contact('delete', 'alan@example.com', {}, ids.get('alan@example.com'))], recordingContext());
    expect(deleted).toEqual([{ key: 'alan@example.com', outcome: 'delivered', destId: ids.get('alan@example.com') }]);
    expect(fake.records('Contact').map((record) => record.Email)).toEqual(['ada@example.com']);
    expect(fake.calls(/\/query$/)).toHaveLength(0);
  });

  it('updates and deletes rows without a remembered Id by looking Ids up by the match field (one SOQL query per batch)', async () => {
    const destination = contactDestination(fake, { mode: 'mirror' });
    const ada = fake.seed('Contact', { LastName: 'Lovelace', Email: 'Ada@Example.com' });
    fake.seed('Contact', { LastName: "O'Brien", Email: "o'brien@example.com" });
    const results = byKey(await destination.write([
      contact('update', 'ada@example.com', { Title: 'Analyst' }),
      contact('delete', "o'brien@example.com"),
      contact('update', 'nobody@example.com'),
      contact('delete', 'ghost@example.com'),
    ], recordingContext()));
    expect(results.get('ada@example.com')).toEqual({ key: 'ada@example.com', outcome: 'delivered', destId: ada });
    expect(results.get("o'brien@example.com")?.outcome).toBe('delivered');
    expect(rejection(results.get('nobody@example.com'))).toMatchObject({ category: 'missing_identifier', code: 'NOT_FOUND', field: 'Email', retryable: false });
    expect(rejection(results.get('ghost@example.com'))).toMatchObject({ category: 'missing_identifier', code: 'NOT_FOUND' });
    expect(fake.records('Contact').map((record) => record.Title)).toEqual(['Analyst']);
    // One lookup for the updates, one for the deletes; the quote in o'brien is escaped.
    expect(fake.calls(/\/query$/)).toHaveLength(2);
  });

  it('rejects bad rows alone with Salesforce\'s own code while the rest arrive', async () => {
    const destination = contactDestination(fake);
    const batch = [
      contact('upsert', 'ok1@example.com'),
      contact('upsert', 'long@example.com', { LastName: 'x'.repeat(81) }),
      contact('upsert', 'not-an-email'),
      contact('upsert', 'nolast@example.com', { LastName: null }),
      contact('upsert', 'level@example.com', { Level__c: 'Quaternary' }),
      contact('upsert', 'score@example.com', { Score__c: 'lots' }),
      contact('upsert', 'ok2@example.com', { Score__c: '12.50', Birthdate: '1990-02-03' }),
    ];
    const ctx = recordingContext();
    const results = byKey(await destination.write(batch, ctx));
    expect(results.size).toBe(batch.length);
    expect(results.get('ok1@example.com')?.outcome).toBe('delivered');
    expect(results.get('ok2@example.com')?.outcome).toBe('delivered');
    expect(rejection(results.get('long@example.com'))).toMatchObject({ category: 'schema_mismatch', code: 'STRING_TOO_LONG', field: 'LastName', retryable: false });
    expect(rejection(results.get('long@example.com'))?.message).toContain('data value too large');
    expect(rejection(results.get('not-an-email'))).toMatchObject({ category: 'schema_mismatch', code: 'INVALID_EMAIL_ADDRESS', field: 'Email' });
    expect(rejection(results.get('nolast@example.com'))).toMatchObject({ category: 'schema_mismatch', code: 'REQUIRED_FIELD_MISSING', field: 'LastName' });
    expect(rejection(results.get('level@example.com'))).toMatchObject({ category: 'schema_mismatch', code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', field: 'Level__c' });
    // A value Salesforce could not even parse would fail the whole request: refused before sending.
    expect(rejection(results.get('score@example.com'))).toMatchObject({ category: 'schema_mismatch', code: 'INVALID_TYPE_ON_FIELD_IN_RECORD', field: 'Score__c' });
    expect(fake.records('Contact').map((record) => record.Email).sort()).toEqual(['ok1@example.com', 'ok2@example.com']);
    expect(fake.calls(/\/composite\//)).toHaveLength(1);
  });

  it('an update whose remembered Id is gone or malformed is a missing identifier', async () => {
    const destination = contactDestination(fake, { mode: 'update' });
    const gone = fake.seed('Contact', { LastName: 'Gone', Email: 'gone@example.com' });
    await destination.write([contact('delete', 'gone@example.com', {}, gone)], recordingContext());
    const results = byKey(await destination.write([
      contact('update', 'gone@example.com', {}, gone),
      contact('update', 'bad@example.com', {}, 'not-an-id'),
    ], recordingContext()));
    expect(rejection(results.get('gone@example.com'))).toMatchObject({ category: 'missing_identifier', code: 'ENTITY_IS_DELETED' });
    expect(rejection(results.get('bad@example.com'))).toMatchObject({ category: 'missing_identifier', code: 'MALFORMED_ID' });
  });

  it('an upsert row without a match value is rejected without a request', async () => {
    const destination = contactDestination(fake);
    const results = await destination.write([{ key: 'k1', op: 'upsert', match: { Email: null }, fields: { LastName: 'Nobody' } }], recordingContext());
    expect(rejection(results[0])).toMatchObject({ category: 'missing_identifier', code: 'MISSING_ARGUMENT', field: 'Email' });
    expect(fake.calls(/\/composite\//)).toHaveLength(0);
  });

  it('a duplicate external id in the org is Salesforce\'s DUPLICATE_EXTERNAL_ID for that row only', async () => {
    const destination = contactDestination(fake);
    fake.seed('Contact', { LastName: 'One', Email: 'twin@example.com' });
    fake.seed('Contact', { LastName: 'Two', Email: 'twin@example.com' });
    const results = byKey(await destination.write([contact('upsert', 'twin@example.com'), contact('upsert', 'solo@example.com')], recordingContext()));
    expect(rejection(results.get('twin@example.com'))).toMatchObject({ category: 'destination_error', code: 'DUPLICATE_EXTERNAL_ID', retryable: false });
    expect(results.get('solo@example.com')?.outcome).toBe('delivered');
  });

  it('declares 200 records per write, with per-record results', async () => {
    const destination = contactDestination(fake, { options: { api: 'rest' } });
    destination.planFor(50_000);
    expect(destination.capabilities).toMatchObject({ maxBatchSize: 200, perRecordResults: true, operations: ['insert', 'update', 'upsert', 'delete'] });
  });

  it('a batch of 200 is one request; the fake refuses 201 records as Salesforce does', async () => {
    const destination = contactDestination(fake);
    const batch = Array.from({ length: 200 }, (_, index) => contact('upsert', `p${index}@example.com`));
    const results = await destination.write(batch, recordingContext());
    expect(results.filter((result) => result.outcome === 'delivered')).toHaveLength(200);
    expect(fake.calls(/\/composite\//)).toHaveLength(1);

    const token = await (await fetch(`${fake.url}/services/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: '3MVG9fake.consumer.key', client_secret: 'sf-secret-5b1e0c7d' }) })).json() as { access_token: string };
    const records = Array.from({ length: 201 }, (_, index) => ({ attributes: { type: 'Contact' }, LastName: `L${index}` }));
    const answer = await fetch(`${fake.url}/services/data/v62.0/composite/sobjects`, {
      method: 'POST', headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ allOrNone: false, records }),
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual([{ errorCode: 'EXCEEDED_ID_LIMIT', message: 'record limit reached. cannot submit more than 200 records into this call' }]);
  });
});
