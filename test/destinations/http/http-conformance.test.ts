import { beforeAll } from 'vitest';
import { httpDestinationType } from '../../../src/destinations/http/http-type.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { FakeHttpServer } from '../../fakes/http/fake-http-server.ts';

// Refuses names over 40 characters, as a strict API would, for the whole batch (a 400).
const fake = new FakeHttpServer({
  token: 'Bearer conformance',
  rejectWhen: (r) => (typeof r.name === 'string' && r.name.length > 40 ? { code: 'STRING_TOO_LONG', message: 'name is longer than 40 characters', field: 'name' } : undefined),
});
beforeAll(() => fake.start().then(() => undefined));

destinationConformance({
  name: 'http',
  async create(mode) {
    const connection = httpDestinationType.connection.parse({ url: `${fake.url}/v2/bulk-update?tenant=conf`, headers: { Authorization: 'Bearer conformance' } });
    return httpDestinationType.create({
      connection: { name: 'pricing_engine', type: 'http', ...connection },
      options: httpDestinationType.syncOptions.parse({}),
      sync: { name: `conformance_${mode}`, model: 'm', destination: 'pricing_engine', mode, match: { id: 'id' }, mapping: {}, options: {} },
      rootDir: process.cwd(),
    });
  },
  async read() {
    return new Map([...fake.store].map(([id, fields]) => [id, fields as Record<string, never>]));
  },
  badChange: () => ({ key: 'bad-1', op: 'upsert', match: { id: 'bad-1' }, fields: { id: 'bad-1', name: 'x'.repeat(100), amount: 1 } }),
  cleanup: () => fake.stop(),
});
