import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../../src/errors.ts';
import type { FakeSalesforce } from '../../fakes/salesforce/fake-salesforce.ts';
import { contactDestination, startOrg } from './salesforce-harness.ts';

let fake: FakeSalesforce;
afterEach(() => fake?.close());

describe('Salesforce describe', () => {
  it('turns the object describe into field specs for the mapped fields', async () => {
    ({ fake } = await startOrg());
    const destination = contactDestination(fake, {
      fields: ['LastName', 'Email', 'Level__c', 'LeadSource', 'Score__c', 'Purchases__c', 'Birthdate', 'LastPurchase__c', 'HasOptedOutOfEmail', 'AccountId', 'External_Id__c'],
    });
    const specs = new Map((await destination.describe(AbortSignal.timeout(5000))).map((spec) => [spec.name, spec]));
    expect([...specs.keys()].sort()).toEqual(['AccountId', 'Birthdate', 'Email', 'External_Id__c', 'HasOptedOutOfEmail', 'LastName', 'LastPurchase__c', 'LeadSource', 'Level__c', 'Purchases__c', 'Score__c']);
    expect(specs.get('LastName')).toEqual({ name: 'LastName', type: 'string', maxLength: 80, required: true });
    expect(specs.get('Email')).toEqual({ name: 'Email', type: 'email', maxLength: 80, externalId: true });
    // Restricted picklists become enums with their values; open ones stay strings.
    expect(specs.get('Level__c')).toMatchObject({ type: 'enum', options: ['Primary', 'Secondary', 'Tertiary'] });
    expect(specs.get('LeadSource')).toMatchObject({ type: 'string', maxLength: 255 });
    expect(specs.get('LeadSource')!.options).toBeUndefined();
    expect(specs.get('Score__c')).toEqual({ name: 'Score__c', type: 'number', precision: 18, scale: 2 });
    expect(specs.get('Purchases__c')).toEqual({ name: 'Purchases__c', type: 'integer' });
    expect(specs.get('Birthdate')!.type).toBe('date');
    expect(specs.get('LastPurchase__c')!.type).toBe('datetime');
    // Not nillable but defaulted on create (a checkbox): not required.
    expect(specs.get('HasOptedOutOfEmail')).toEqual({ name: 'HasOptedOutOfEmail', type: 'boolean' });
    expect(specs.get('AccountId')).toEqual({ name: 'AccountId', type: 'id', maxLength: 18 });
    expect(specs.get('External_Id__c')).toEqual({ name: 'External_Id__c', type: 'string', maxLength: 64, externalId: true });
  });

  it('reads currency with its precision (Product2)', async () => {
    ({ fake } = await startOrg());
    const destination = contactDestination(fake, { object: 'Product2', match: { sku: 'ExternalId' }, fields: ['Name', 'Price__c', 'IsActive'] });
    const specs = await destination.describe(AbortSignal.timeout(5000));
    expect(specs.find((spec) => spec.name === 'Price__c')).toEqual({ name: 'Price__c', type: 'number', precision: 16, scale: 2 });
    expect(specs.find((spec) => spec.name === 'ExternalId')).toMatchObject({ externalId: true });
  });

  it('describes once per destination', async () => {
    ({ fake } = await startOrg());
    const destination = contactDestination(fake);
    await destination.check(AbortSignal.timeout(5000));
    await destination.describe(AbortSignal.timeout(5000));
    expect(fake.calls(/describe$/)).toHaveLength(1);
  });

  it('a mapped field the object lacks is a config error that names it', async () => {
    ({ fake } = await startOrg());
    const error = await contactDestination(fake, { fields: ['LastName', 'lastname__c', 'Emial'] }).check(AbortSignal.timeout(5000)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).kind).toBe('config');
    expect((error as SyncError).message).toBe('destination "crm": Contact has no field lastname__c; fix the sync\'s mapping');
  });

  it('suggests the right spelling when only the case differs', async () => {
    ({ fake } = await startOrg());
    const error = (await contactDestination(fake, { fields: ['lastname'] }).check(AbortSignal.timeout(5000)).catch((caught: unknown) => caught)) as SyncError;
    expect(error.message).toContain('did you mean LastName?');
  });

  it('an unknown object is a config error', async () => {
    ({ fake } = await startOrg());
    const error = (await contactDestination(fake, { object: 'Contakt' }).check(AbortSignal.timeout(5000)).catch((caught: unknown) => caught)) as SyncError;
    expect(error.kind).toBe('config');
    expect(error.message).toContain('Salesforce has no object Contakt');
  });

  it('upserting on a field that is neither External ID nor idLookup is a config error', async () => {
    ({ fake } = await startOrg());
    const error = (await contactDestination(fake, { match: { title: 'Title' } }).check(AbortSignal.timeout(5000)).catch((caught: unknown) => caught)) as SyncError;
    expect(error.kind).toBe('config');
    expect(error.message).toContain('Contact.Title is not an External ID');
  });

  it('a read-only field in the mapping is a config error', async () => {
    ({ fake } = await startOrg());
    const error = (await contactDestination(fake, { fields: ['LastName', 'CreatedDate'] }).check(AbortSignal.timeout(5000)).catch((caught: unknown) => caught)) as SyncError;
    expect(error.kind).toBe('config');
    expect(error.message).toContain('Contact.CreatedDate is read-only');
  });
});
