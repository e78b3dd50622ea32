import { beforeAll } from 'vitest';
import type { Value } from '../../../src/sources/source.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { CustomerioFake } from '../../fakes/customerio/customerio-fake.ts';
import { presetDestination } from './preset-test-kit.ts';

const cio = new CustomerioFake();
beforeAll(() => cio.server.start().then(() => undefined));

destinationConformance({
  name: 'http-request preset customerio',
  fields: { id: 'id', name: 'first_name', amount: 'amount' },
  create: async (mode) => presetDestination('customerio', { siteId: cio.siteId, apiKey: cio.apiKey, trackUrl: cio.url }, mode, 'id', ['first_name', 'amount']),
  async read() {
    return new Map([...cio.people].map(([id, person]) => [id, person as Record<string, Value>]));
  },
  // Over the 32 KB an operation of a batch may have: a 207 names it, the others go in.
  badChange: () => ({ key: 'bad', op: 'upsert', match: { id: 'lm-bad' }, fields: { id: 'lm-bad', first_name: 'x'.repeat(40_000), amount: 1 } }),
  cleanup: () => cio.server.stop(),
});
