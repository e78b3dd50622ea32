import type { Value } from '../../../src/sources/source.ts';
import { hubspotDestinationType } from '../../../src/destinations/hubspot/hubspot-type.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { startHubspotFake, type HubspotFake } from '../../fakes/hubspot/hubspot-fake.ts';
import { createDestination, makeSync } from '../destination-test-kit.ts';

let fake: HubspotFake | undefined;
const portal = async () => (fake ??= await startHubspotFake());

destinationConformance({
  name: 'hubspot (contacts, upsert by email)',
  fields: { id: 'email', name: 'firstname', amount: 'lifetime_value' },
  idFor: (n) => `lm-conf-${n}@example.com`,
  async create(mode) {
    const { url, token } = await portal();
    const sync = makeSync(`hs_conf_${mode}`, mode, ['email'], ['email', 'firstname', 'lifetime_value'], { object: 'contacts' });
    return createDestination(hubspotDestinationType, { token, baseUrl: url }, sync, 'marketing');
  },
  async read() {
    const { store } = await portal();
    return new Map<string, Record<string, Value>>(store.list('contacts').map((c) => [c.properties.email!, c.properties]));
  },
  // HubSpot refuses the whole batch for one invalid email: the engine must narrow it down to this row.
  badChange: () => ({
    key: 'bad', op: 'upsert', match: { email: 'lm-conf-bad@' },
    fields: { email: 'lm-conf-bad@', firstname: 'bad', lifetime_value: 1 },
  }),
  async cleanup() {
    await fake?.close();
  },
});
