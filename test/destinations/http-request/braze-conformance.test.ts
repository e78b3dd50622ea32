import { beforeAll } from 'vitest';
import type { Value } from '../../../src/sources/source.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { BrazeFake } from '../../fakes/braze/braze-fake.ts';
import { presetDestination } from './preset-test-kit.ts';

const braze = new BrazeFake();
beforeAll(() => braze.server.start().then(() => undefined));

destinationConformance({
  name: 'http-request preset braze',
  fields: { id: 'external_id', name: 'first_name', amount: 'lifetime_value' },
  create: async (mode) => presetDestination('braze', { restEndpoint: braze.url, apiKey: braze.apiKey }, mode, 'external_id', ['first_name', 'lifetime_value']),
  async read() {
    return new Map([...braze.users].map(([id, attrs]) => [id, attrs as Record<string, Value>]));
  },
  // No identifier: Braze processes the other objects and lists this one's index.
  badChange: () => ({ key: 'bad', op: 'upsert', match: { external_id: null }, fields: { external_id: null, first_name: 'bad', lifetime_value: 1 } }),
  cleanup: () => braze.server.stop(),
});
