import type { Value } from '../../../src/sources/source.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import type { FakeSalesforce } from '../../fakes/salesforce/fake-salesforce.ts';
import { contactDestination, startOrg } from './salesforce-harness.ts';

/** The conformance suite on Contact (External_Id__c, LastName, Purchases__c), once per API. */
for (const api of ['rest', 'bulk'] as const) {
  let fake: FakeSalesforce | undefined;
  const org = async () => (fake ??= (await startOrg({ bulkPollsToComplete: 2 })).fake);

  destinationConformance({
    name: `salesforce (Contact through ${api === 'rest' ? 'sObject Collections' : 'Bulk API 2.0'}, fake org)`,
    fields: { id: 'External_Id__c', name: 'LastName', amount: 'Purchases__c' },
    async create(mode) {
      return contactDestination(await org(), {
        mode, match: { id: 'External_Id__c' }, fields: ['External_Id__c', 'LastName', 'Purchases__c'], options: { api },
      });
    },
    async read() {
      const records = (await org()).records('Contact');
      return new Map(records.map((record) => [String(record.External_Id__c), record as Record<string, Value>]));
    },
    badChange: () => ({
      key: 'too-long', op: 'upsert', match: { External_Id__c: 'lm-conf-too-long' },
      fields: { External_Id__c: 'lm-conf-too-long', LastName: 'x'.repeat(81), Purchases__c: 1 },
    }),
    async cleanup() {
      await fake?.close();
    },
  });
}
