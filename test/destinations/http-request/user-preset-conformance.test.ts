import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpRequestDestinationType } from '../../../src/destinations/http-request/http-request-type.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { FakeHttpServer } from '../../fakes/http/fake-http-server.ts';
import { makeSync } from '../destination-test-kit.ts';

// The internal API of the README's example: items under "items", per-item errors in a 200.
const fake = new FakeHttpServer({
  token: 'Bearer user-preset',
  bodyKey: 'items',
  rejectMode: 'record',
  rejectWhen: (r) => (typeof r.name === 'string' && r.name.length > 40 ? { code: 'STRING_TOO_LONG', message: 'name is longer than 40 characters', field: 'name' } : undefined),
});
beforeAll(() => fake.start().then(() => undefined));

destinationConformance({
  name: 'http-request with a user-written preset (pricing-engine)',
  async create(mode) {
    const connection = httpRequestDestinationType.connection.parse({
      preset: 'pricing-engine', presetFolder: 'user-presets', settings: { url: fake.url, token: 'user-preset' },
    });
    return httpRequestDestinationType.create({
      connection: { name: 'pricing', type: 'http-request', ...connection },
      options: {},
      sync: makeSync(`pricing_${mode}`, mode, ['id'], ['id', 'name', 'amount']),
      rootDir: path.dirname(new URL(import.meta.url).pathname),
    });
  },
  async read() {
    return new Map([...fake.store].map(([id, fields]) => [id, fields as Record<string, never>]));
  },
  badChange: () => ({ key: 'bad-1', op: 'upsert', match: { id: 'bad-1' }, fields: { id: 'bad-1', name: 'x'.repeat(100), amount: 1 } }),
  cleanup: () => fake.stop(),
});

describe('the README', () => {
  it('shows this very preset, in under 30 lines of YAML', async () => {
    const preset = await readFile(new URL('./user-presets/pricing-engine.yml', import.meta.url), 'utf8');
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(preset);
    expect(preset.trim().split('\n').length).toBeLessThan(30);
  });
});
