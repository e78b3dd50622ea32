import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../../src/config/load-project.ts';
import { createDestination, resolveSync } from '../../../src/engine/resolve-sync.ts';
import { ConfigError } from '../../../src/errors.ts';
import { writeProject, yaml } from '../../config/config-files.ts';

const MODEL = yaml(
  'sources: { warehouse: { type: duckdb, path: ":memory:" } }',
  'models: { users: { source: warehouse, sql: "SELECT 1 AS id, \'a\' AS name", primaryKey: id } }',
  'syncs: { users_out: { model: users, destination: api, mode: upsert, match: { id: external_id }, mapping: { name: first_name } } }',
);

/** A project whose destination `api` is `destination` (YAML lines, indented 4). */
async function project(destination: string[], files: Record<string, string> = {}) {
  const folder = await writeProject({ 'lastmile.yml': yaml('version: 1', 'destinations:', '  api:', ...destination.map((l) => `    ${l}`)) + MODEL, ...files });
  return loadProject(path.join(folder, 'lastmile.yml'), {});
}

async function refusal(destination: string[], files: Record<string, string> = {}): Promise<ConfigError> {
  const error = await project(destination, files).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const ACME = yaml(
  /* 1 */ 'settings:',
  /* 2 */ '  token: { secret: true }',
  /* 3 */ 'baseUrl: https://api.acme.test',
  /* 4 */ 'operations:',
  /* 5 */ '  upsert:',
  /* 6 */ '    url: /contacts',
  /* 7 */ '    batchSize: 50',
  /* 8 */ '    body: |',
  /* 9 */ '      {"contacts": [',
  /* 10 */ '      {% for r in records %}{{ r.feilds | json }}{% endfor %}]}',
);

describe('http-request settings when the config loads', () => {
  it('names the preset file, the template\'s own line and the field of an unknown variable', async () => {
    const error = await refusal(['type: http-request', 'preset: acme', 'settings: { token: t0ken-value }'], { 'presets/acme.yml': ACME });
    expect(error.message).toMatch(/presets\/acme\.yml:10 operations\.upsert\.body: /);
    expect(error.message).toContain('unknown variable "r.feilds" (did you mean r.fields?)');
  });

  it('names lastmile.yml and the field of a Liquid mistake written over a preset', async () => {
    const error = await refusal([
      /* 4 */ 'type: http-request',
      /* 5 */ 'preset: braze',
      /* 6 */ 'settings: { restEndpoint: "https://rest.iad-01.braze.com", apiKey: k3y-value }',
      /* 7 */ 'operations:',
      /* 8 */ '  upsert:',
      /* 9 */ '    body: "{% for r in records %}"',
    ]);
    expect(error.message).toMatch(/lastmile\.yml:9 destinations\.api\.operations\.upsert\.body: not valid Liquid/);
  });

  it('lists the presets there are, and says which settings a preset needs', async () => {
    expect((await refusal(['type: http-request', 'preset: brazee'])).message).toContain('unknown preset "brazee": known presets are braze, customerio, iterable');
    expect((await refusal(['type: http-request', 'preset: braze', 'settings: { restEndpoint: "https://x.test" }'])).message)
      .toMatch(/lastmile\.yml:6 .*settings\.apiKey is required by preset "braze"/);
    expect((await refusal(['type: http-request', 'preset: braze', 'settings: { restEndpoint: "https://x.test", apiKey: k3y-value, apikey: x }'])).message)
      .toContain('unknown key "apikey": did you mean "apiKey"?');
    expect((await refusal(['type: http-request', 'preset: acme', 'presetFolder: ./mine'])).message)
      .toMatch(/lastmile\.yml:6 destinations\.api\.presetFolder: preset folder .*mine does not exist/);
    expect((await refusal(['type: http-request', 'preset: acme'], { 'presets/acme.yml': 'operations:\n  upsert: [\n' })).message)
      .toMatch(/presets\/acme\.yml:\d+: not valid YAML/);
  });

  it('overlays the entry on its preset and keeps a secret setting out of every message', async () => {
    const loaded = await project([
      'type: http-request', 'preset: braze',
      'settings: { restEndpoint: "https://rest.iad-01.braze.com", apiKey: literal-braze-key }',
      'operations: { upsert: { batchSize: 10 } }',
    ]);
    expect(loaded.secrets).toContain('literal-braze-key');
    const destination = createDestination(loaded, resolveSync(loaded, 'users_out'));
    expect(destination.capabilities.maxBatchSize).toBe(10);
    // Braze's insert is the upsert request (insert: upsert): a retry cannot create a user twice.
    expect([...destination.capabilities.retrySafe!].sort()).toEqual(['delete', 'insert', 'update', 'upsert']);
    const [request] = destination.preview!([{ key: '1', op: 'upsert', match: { external_id: 'u1' }, fields: { external_id: 'u1', first_name: 'Ada' } }]);
    expect(request).toMatchObject({ method: 'POST', url: 'https://rest.iad-01.braze.com/users/track', headers: { Authorization: '***' } });
    expect(JSON.parse(request!.body!)).toEqual({ attributes: [{ external_id: 'u1', first_name: 'Ada', _update_existing_only: false }] });
    expect(JSON.stringify(request)).not.toContain('literal-braze-key');
    await destination.close();
  });
});
