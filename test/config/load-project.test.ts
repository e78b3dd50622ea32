import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load-project.ts';
import { configError, loadYaml, writeProject, yaml } from './config-files.ts';

/** PRODUCT.md's example, as a user would write it. */
const PRODUCT_EXAMPLE = `version: 1
state: .lastmile                 # embedded default; or postgres://… for a shared state store

sources:
  warehouse:
    type: duckdb
    path: ./warehouse.duckdb

destinations:
  pricing_engine:
    type: http
    url: http://127.0.0.1:8080/v2/bulk-update
    headers: { Authorization: "Bearer \${PRICING_TOKEN}" }
    batch: { size: 500 }
    rateLimit: { requestsPerSecond: 10, concurrency: 4 }   # optional: adaptive when absent
  crm:
    type: salesforce
    instanceUrl: https://example.my.salesforce.com
    auth: { clientId: "\${SF_CLIENT_ID}", clientSecret: "\${SF_CLIENT_SECRET}" }

models:
  competitor_prices:
    source: warehouse
    sql: SELECT sku, competitor, price, currency, updated_at FROM competitor_prices
    primaryKey: sku
    # cursor: updated_at

syncs:
  prices_to_engine:
    model: competitor_prices
    destination: pricing_engine
    mode: upsert
    match: { sku: id }
    mapping:
      price: amount              # rename
      currency: currency
      source: { static: scraper }            # constant
      label: { template: "{{ sku | upcase }} @ {{ competitor }}" }   # Liquid
    schedule: { every: 5m }
`;

const ENV = { PRICING_TOKEN: 'pricing-token-123', SF_CLIENT_ID: 'sf-client-id-456', SF_CLIENT_SECRET: 'sf-client-secret-789' };

describe('loadProject', () => {
  it('loads the example of PRODUCT.md into the resolved project', async () => {
    const folder = await writeProject({ 'lastmile.yml': PRODUCT_EXAMPLE });
    const file = path.join(folder, 'lastmile.yml');
    const project = await loadProject(file, ENV);
    const display = path.relative(process.cwd(), file).startsWith('..') ? file : path.relative(process.cwd(), file);

    expect(project).toEqual({
      configPath: file,
      rootDir: folder,
      state: path.join(folder, '.lastmile'),
      stateLocation: { file: display, line: 2, field: 'state' },
      sources: { warehouse: { name: 'warehouse', type: 'duckdb', path: './warehouse.duckdb' } },
      destinations: {
        pricing_engine: {
          name: 'pricing_engine',
          type: 'http',
          url: 'http://127.0.0.1:8080/v2/bulk-update',
          method: 'POST',
          headers: { Authorization: 'Bearer pricing-token-123' },
          timeoutMs: 30_000,
          perRecord: false,
          idempotencyKey: true,
          batch: { size: 500 },
          rateLimit: { requestsPerSecond: 10, concurrency: 4 },
        },
        // The Salesforce type owns its defaults; what was written must come through as written.
        crm: expect.objectContaining({
          name: 'crm',
          type: 'salesforce',
          instanceUrl: 'https://example.my.salesforce.com',
          auth: { clientId: 'sf-client-id-456', clientSecret: 'sf-client-secret-789' },
        }),
      },
      models: {
        competitor_prices: {
          name: 'competitor_prices',
          source: 'warehouse',
          sql: 'SELECT sku, competitor, price, currency, updated_at FROM competitor_prices',
          primaryKey: ['sku'],
          location: { file: display, line: 22, lines: { primaryKey: 25 } },
        },
      },
      syncs: {
        prices_to_engine: {
          name: 'prices_to_engine',
          model: 'competitor_prices',
          destination: 'pricing_engine',
          mode: 'upsert',
          match: { sku: 'id' },
          mapping: {
            amount: { kind: 'column', column: 'price' },
            currency: { kind: 'column', column: 'currency' },
            source: { kind: 'static', value: 'scraper' },
            label: { kind: 'template', template: '{{ sku | upcase }} @ {{ competitor }}' },
          },
          schedule: { every: '5m', everyMs: 300_000 },
          options: {},
          location: {
            file: display,
            line: 29,
            lines: { 'match.sku': 33, 'mapping.amount': 35, 'mapping.currency': 36, 'mapping.source': 37, 'mapping.label': 38 },
          },
        },
      },
      tokens: [],
      alerts: [],
      secrets: expect.arrayContaining(['pricing-token-123', 'sf-client-id-456', 'sf-client-secret-789']),
    });
  });

  it('applies defaults: version, state, mode upsert, empty mapping; keeps a postgres:// state as written', async () => {
    const project = await loadYaml(yaml(
      'state: postgres://lastmile@127.0.0.1:5432/lastmile',
      'sources: { wh: { type: duckdb, path: ":memory:" } }',
      'destinations: { hook: { type: http, url: "http://127.0.0.1:9/hook" } }',
      'models: { m: { source: wh, table: items, primaryKey: [id, region], cursor: updated_at } }',
      'syncs: { s: { model: m, destination: hook, match: { id: id }, schedule: { cron: "*/5 * * * *" }, after: other }, other: { model: m, destination: hook, mode: insert } }',
    ));
    expect(project.state).toBe('postgres://lastmile@127.0.0.1:5432/lastmile');
    expect(project.models.m).toMatchObject({ table: 'items', primaryKey: ['id', 'region'], cursor: 'updated_at' });
    expect(project.models.m.sql).toBeUndefined();
    expect(project.syncs.s).toMatchObject({ mode: 'upsert', mapping: {}, schedule: { cron: '*/5 * * * *' }, after: ['other'] });
    expect(project.syncs.other).toMatchObject({ mode: 'insert', match: {} });
    expect(project.syncs.other.schedule).toBeUndefined();
  });

  it('puts a sync\'s destination-specific settings in options, checked by the destination type', async () => {
    const project = await loadYaml(yaml(
      'sources: { wh: { type: duckdb, path: ":memory:" } }',
      'destinations:',
      '  crm: { type: salesforce, instanceUrl: "https://example.my.salesforce.com", auth: { clientId: id-1234, clientSecret: secret-1234 } }',
      'models: { contacts: { source: wh, table: contacts, primaryKey: email } }',
      'syncs:',
      '  contacts_to_sf: { model: contacts, destination: crm, object: Contact, api: rest, match: { email: Email }, mapping: { last_name: LastName } }',
    ));
    expect(project.syncs.contacts_to_sf.options).toMatchObject({ object: 'Contact', api: 'rest' });
    expect(project.syncs.contacts_to_sf.mapping).toEqual({ LastName: { kind: 'column', column: 'last_name' } });
  });

  it('reads tokens and alerts', async () => {
    const project = await loadYaml(yaml(
      'tokens:',
      '  - { token: "${READ_TOKEN}", role: read, name: dashboards }',
      '  - { token: admin-token-0001, role: admin }',
      'alerts:',
      '  - { type: slack, url: "https://hooks.slack.com/services/T/B/X", on: [failed, rejected], rejectedThreshold: 10 }',
      '  - { type: webhook, url: "http://127.0.0.1:9/alerts" }',
    ), { READ_TOKEN: 'read-token-0002' });
    expect(project.tokens).toEqual([
      { token: 'read-token-0002', role: 'read', name: 'dashboards' },
      { token: 'admin-token-0001', role: 'admin' },
    ]);
    expect(project.alerts).toEqual([
      { type: 'slack', url: 'https://hooks.slack.com/services/T/B/X', on: ['failed', 'rejected'], rejectedThreshold: 10 },
      { type: 'webhook', url: 'http://127.0.0.1:9/alerts', on: ['failed'] },
    ]);
    expect(project.secrets).toEqual(expect.arrayContaining(['read-token-0002', 'admin-token-0001']));
  });

  it('merges a folder of .yml and .yaml files, and names the file of a mistake', async () => {
    const folder = await writeProject({
      'sources.yml': yaml('version: 1', 'sources:', '  wh: { type: duckdb, path: ":memory:" }'),
      'destinations.yaml': yaml('destinations:', '  hook: { type: http, url: "http://127.0.0.1:9/a" }', 'tokens: [{ token: first-token-1, role: read }]'),
      'syncs.yml': yaml(
        'version: 1',
        'models:',
        '  m: { source: wh, sql: "SELECT 1 AS id", primaryKey: id }',
        'syncs:',
        '  s: { model: m, destination: hook, match: { id: id } }',
        'tokens: [{ token: second-token-2, role: admin }]',
      ),
      'notes.txt': 'not a config file',
    });
    const project = await loadProject(folder, {});
    expect(project.configPath).toBe(folder);
    expect(project.rootDir).toBe(folder);
    expect(Object.keys(project.sources)).toEqual(['wh']);
    expect(Object.keys(project.destinations)).toEqual(['hook']);
    expect(project.syncs.s.location?.file).toMatch(/syncs\.yml$/);
    expect(project.syncs.s.location?.line).toBe(5);
    expect(project.tokens.map((token) => token.token)).toEqual(['first-token-1', 'second-token-2']);

    // A mistake in the second token of the list is reported in the file that wrote it.
    const broken = await writeProject({
      'a.yml': yaml('tokens:', '  - { token: first-token-1, role: read }'),
      'b.yml': yaml('# tokens of the ops team', 'tokens:', '  - { token: second-token-2, role: root }'),
    });
    const error = await loadProject(broken, {}).catch((thrown) => thrown);
    expect(error.message).toMatch(/b\.yml:3 tokens\[1\]\.role: expected one of admin \| read \| events, got "root"/);
  });

  it('refuses a folder without config files and a path that does not exist', async () => {
    const empty = await writeProject({ 'readme.md': '# nothing' });
    await expect(loadProject(empty, {})).rejects.toThrow(/has no \.yml or \.yaml files/);
    await expect(loadProject(path.join(empty, 'lastmile.yml'), {})).rejects.toThrow(/no config at .*lastmile\.yml/);
  });

  it('reads a whole unquoted ${NAME} as a number where a setting wants one, and keeps quoted values text', async () => {
    const project = await loadYaml(yaml(
      'destinations:',
      '  hook:',
      '    type: http',
      '    url: "http://127.0.0.1:${HOOK_PORT}/hook"',
      '    timeoutMs: ${HOOK_TIMEOUT}',
      '    batch:',
      '      size: ${BATCH}',
      '    headers: { X-Code: "${CODE}" }',
    ), { HOOK_PORT: '8088', HOOK_TIMEOUT: '5000', BATCH: '250', CODE: '0042' });
    expect(project.destinations.hook).toMatchObject({ url: 'http://127.0.0.1:8088/hook', timeoutMs: 5000, batch: { size: 250 }, headers: { 'X-Code': '0042' } });
  });

  it('supports ${NAME:-default} and $${ for a literal', async () => {
    const project = await loadYaml(yaml(
      'state: ${LASTMILE_STATE:-state-folder}',
      'destinations:',
      '  hook: { type: http, url: "http://127.0.0.1:9/hook", headers: { X-Template: "$${NOT_A_VAR}" } }',
    ));
    expect(project.state).toBe(path.join(project.rootDir, 'state-folder'));
    expect(project.destinations.hook.headers).toEqual({ 'X-Template': '${NOT_A_VAR}' });
  });

  it('reports a YAML syntax error with its line', async () => {
    const error = await configError(yaml('sources:', '  wh: { type: duckdb, path: x', 'models: {}'));
    expect(error.message).toMatch(/lastmile\.yml:\d+: not valid YAML/);
  });
});
