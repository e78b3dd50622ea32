import { beforeAll } from 'vitest';
import type { Value } from '../../../src/sources/source.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { IterableFake } from '../../fakes/iterable/iterable-fake.ts';
import { presetDestination } from './preset-test-kit.ts';

const iterable = new IterableFake();
beforeAll(() => iterable.server.start().then(() => undefined));

destinationConformance({
  name: 'http-request preset iterable',
  fields: { id: 'email', name: 'firstName', amount: 'amount' },
  idFor: (n) => `lm-conf-${n}@example.com`,
  create: async (mode) => presetDestination('iterable', { apiKey: iterable.apiKey, apiUrl: iterable.url }, mode, 'email', ['firstName', 'amount']),
  async read() {
    return new Map([...iterable.users].map(([id, user]) => [id, user as Record<string, Value>]));
  },
  // A malformed email: Iterable lists it under failedUpdates.invalidEmails and updates the rest.
  badChange: () => ({ key: 'bad', op: 'upsert', match: { email: 'lm-conf-bad@' }, fields: { email: 'lm-conf-bad@', firstName: 'bad', amount: 1 } }),
  cleanup: () => iterable.server.stop(),
});
