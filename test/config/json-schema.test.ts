import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { JSON_SCHEMA_PATH, projectJsonSchema, projectJsonSchemaText } from '../../src/config/json-schema.ts';
import { sourceTypes } from '../../src/sources/registry.ts';
import { destinationTypes } from '../../src/destinations/registry.ts';

const EXAMPLE = `
version: 1
state: .lastmile
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  pricing_engine:
    type: http
    url: http://127.0.0.1:8080/v2/bulk-update
    headers: { Authorization: "Bearer \${PRICING_TOKEN}" }
    batch: { size: 500 }
    rateLimit: { requestsPerSecond: 10, concurrency: 4 }
models:
  competitor_prices:
    source: warehouse
    sql: SELECT sku, competitor, price, currency, updated_at FROM competitor_prices
    primaryKey: sku
syncs:
  prices_to_engine:
    model: competitor_prices
    destination: pricing_engine
    mode: upsert
    match: { sku: id }
    mapping:
      price: amount
      source: { static: scraper }
      label: { template: "{{ sku | upcase }} @ {{ competitor }}" }
    schedule: { every: 5m }
`;

describe('JSON Schema of lastmile.yml', () => {
  it('the committed schema/lastmile.schema.json is up to date with the code', async () => {
    const committed = await readFile(JSON_SCHEMA_PATH, 'utf8');
    expect(committed, 'run `npx tsx src/config/write-json-schema.ts` and commit schema/lastmile.schema.json').toBe(projectJsonSchemaText());
  });

  it('describes every registered source and destination type', () => {
    const text = projectJsonSchemaText();
    for (const type of [...Object.keys(sourceTypes), ...Object.keys(destinationTypes)]) {
      expect(text).toContain(`"const": "${type}"`);
    }
  });

  it('accepts the example of PRODUCT.md and refuses the mistakes an editor should underline', () => {
    // The validator editors use (yaml-language-server) is Ajv-compatible; formats such as uri are checked too.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile(projectJsonSchema());
    const example = parse(EXAMPLE);
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);

    const typo = parse(EXAMPLE.replace('    mode: upsert', '    mdoe: upsert'));
    expect(validate(typo)).toBe(false);
    const badMode = parse(EXAMPLE.replace('    mode: upsert', '    mode: upsret'));
    expect(validate(badMode)).toBe(false);
    const badDuration = parse(EXAMPLE.replace('every: 5m', 'every: 5 minutes'));
    expect(validate(badDuration)).toBe(false);
    const badUrl = parse(EXAMPLE.replace('url: http://127.0.0.1:8080/v2/bulk-update', 'url: not a url'));
    expect(validate(badUrl)).toBe(false);
    const unknownSetting = parse(EXAMPLE.replace('path: ./warehouse.duckdb', 'path: ./warehouse.duckdb, readonly: true'));
    expect(validate(unknownSetting)).toBe(false);
  });
});
