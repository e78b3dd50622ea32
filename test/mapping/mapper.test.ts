import { describe, expect, it } from 'vitest';
import { createMapper } from '../../src/mapping/mapper.ts';
import type { FieldMapping, SyncConfig } from '../../src/config/project.ts';
import type { FieldSpec } from '../../src/destinations/destination.ts';
import { ConfigError } from '../../src/errors.ts';

function sync(overrides: Partial<SyncConfig> = {}): SyncConfig {
  return {
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
    options: {},
    location: { file: 'lastmile.yml', line: 24, lines: { 'mapping.label': 33 } },
    ...overrides,
  };
}

const ROW = { sku: 'ab-1', competitor: 'acme', price: '19.90', currency: 'EUR', updated_at: '2024-03-01T12:00:00Z' };

describe('createMapper', () => {
  it('renames, sets constants and renders templates; match fields are in the payload too', () => {
    const result = createMapper(sync()).map(ROW);
    expect(result).toEqual({
      ok: true,
      value: {
        match: { id: 'ab-1' },
        fields: { id: 'ab-1', amount: '19.90', currency: 'EUR', source: 'scraper', label: 'AB-1 @ acme' },
      },
    });
  });

  it('lists the columns the payload depends on, sorted: match, renamed and template inputs', () => {
    expect(createMapper(sync()).columns).toEqual(['competitor', 'currency', 'price', 'sku']);
    const nested = createMapper(sync({ mapping: { label: { kind: 'template', template: '{% if promo.active %}{{ promo.code }}{% endif %}' } } }));
    expect(nested.columns).toEqual(['promo', 'sku']);
  });

  it('maps a missing column to null and a static object as it is', () => {
    const mapper = createMapper(sync({ mapping: { amount: { kind: 'column', column: 'price' }, meta: { kind: 'static', value: { tier: 1 } } } }));
    expect(mapper.map({ sku: 'x' })).toEqual({ ok: true, value: { match: { id: 'x' }, fields: { id: 'x', amount: null, meta: { tier: 1 } } } });
  });

  it('gives templates numbers from bigints, so Liquid math works', () => {
    const mapper = createMapper(sync({ mapping: { doubled: { kind: 'template', template: '{{ qty | times: 2 }}' } } }));
    expect(mapper.map({ sku: 'x', qty: 21n })).toMatchObject({ ok: true, value: { fields: { doubled: '42' } } });
  });

  it('refuses a template that is not valid Liquid when it is created, naming the sync field and line', () => {
    const broken = sync({ mapping: { label: { kind: 'template', template: '{{ sku | nosuchfilter }}' } } });
    expect(() => createMapper(broken)).toThrow(ConfigError);
    expect(() => createMapper(broken)).toThrow(/^lastmile\.yml:33 syncs\.prices_to_engine\.mapping\.label: not a valid Liquid template: undefined filter: nosuchfilter/);
  });

  it('rejects the row as invalid_row when its template fails on it', () => {
    const mapper = createMapper(sync({ mapping: { label: { kind: 'template', template: '{% include "other" %}' } } }));
    const result = mapper.map(ROW);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection).toMatchObject({ category: 'invalid_row', field: 'label', retryable: false });
    expect(result.rejection.message).toMatch(/^the template of field "label" failed on this row: /);
  });

  it('rejects a row whose match value is empty as missing_identifier', () => {
    const mapper = createMapper(sync());
    for (const sku of [null, undefined, '', '  ']) {
      const result = mapper.map({ ...ROW, sku: sku as string | null });
      expect(result).toMatchObject({ ok: false, rejection: { category: 'missing_identifier', field: 'id', retryable: false } });
    }
  });

  describe('with the destination field types', () => {
    const fields: FieldSpec[] = [
      { name: 'id', type: 'id' },
      { name: 'amount', type: 'number', precision: 6, scale: 2 },
      { name: 'Currency', type: 'enum', options: ['EUR', 'USD'] },
      { name: 'source', type: 'string', maxLength: 10, required: true },
      { name: 'label', type: 'string', maxLength: 12 },
    ];

    it('coerces each field to its type (field names match case-insensitively)', () => {
      const result = createMapper(sync(), fields).map({ ...ROW, sku: 'ab' });
      expect(result).toEqual({
        ok: true,
        value: { match: { id: 'ab' }, fields: { id: 'ab', amount: 19.9, currency: 'EUR', source: 'scraper', label: 'AB @ acme' } },
      });
    });

    it('rejects a value that cannot be coerced as schema_mismatch, naming the field, the value and the type', () => {
      const mapper = createMapper(sync(), fields);
      expect(mapper.map({ ...ROW, price: 'abc' })).toEqual({
        ok: false,
        rejection: { category: 'schema_mismatch', field: 'amount', message: 'field "amount" (number): "abc" is not a number', retryable: false },
      });
      expect(mapper.map({ ...ROW, currency: 'GBP' })).toMatchObject({
        ok: false, rejection: { category: 'schema_mismatch', field: 'currency', message: 'field "currency" (enum): "GBP" is not one of EUR | USD' },
      });
      expect(mapper.map({ ...ROW, price: '12345.5' })).toMatchObject({ ok: false, rejection: { field: 'amount' } });
      expect(mapper.map({ ...ROW, competitor: 'a-very-long-competitor' })).toMatchObject({
        ok: false, rejection: { category: 'schema_mismatch', field: 'label', message: 'field "label" (string): text of 29 characters is longer than the field\'s maximum of 12' },
      });
    });

    it('rejects a required field left empty', () => {
      const mapper = createMapper(sync({ mapping: { source: { kind: 'column', column: 'origin' } } }), fields);
      expect(mapper.map({ sku: 'x', origin: null })).toEqual({
        ok: false,
        rejection: { category: 'schema_mismatch', field: 'source', message: 'field "source" is required, but the value is empty', retryable: false },
      });
    });

    it('coerces the match value too, and rejects it when it does not fit the identifier type', () => {
      const numericId = createMapper(sync({ mapping: {} }), [{ name: 'id', type: 'integer' }]);
      expect(numericId.map({ sku: '0042' })).toEqual({ ok: true, value: { match: { id: 42 }, fields: { id: 42 } } });
      expect(numericId.map({ sku: 'ab' })).toMatchObject({ ok: false, rejection: { category: 'schema_mismatch', field: 'id' } });
    });
  });
});

describe('Mapper.signature', () => {
  const base = createMapper(sync()).signature;
  const withMapping = (mapping: Record<string, FieldMapping>) => createMapper(sync({ mapping })).signature;

  it('does not change with what does not shape the payload: order of entries, name, schedule, mode, options', () => {
    const reordered = Object.fromEntries(Object.entries(sync().mapping).reverse());
    expect(withMapping(reordered)).toBe(base);
    expect(createMapper(sync({ name: 'other', schedule: { every: '1h', everyMs: 3_600_000 }, mode: 'insert', options: { x: 1 } })).signature).toBe(base);
    expect(createMapper(sync()).signature).toBe(base);
  });

  it('changes when the mapping changes', () => {
    const { mapping } = sync();
    const variants = [
      withMapping({ ...mapping, amount: { kind: 'column', column: 'list_price' } }),
      withMapping({ ...mapping, source: { kind: 'static', value: 'feed' } }),
      withMapping({ ...mapping, label: { kind: 'template', template: '{{ sku }}' } }),
      withMapping({ ...mapping, extra: { kind: 'static', value: 1 } }),
      createMapper(sync({ match: { sku: 'external_id' } })).signature,
    ];
    for (const signature of variants) expect(signature).not.toBe(base);
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('changes when a field type it coerces to changes, not for fields it does not write', () => {
    const typed = createMapper(sync(), [{ name: 'amount', type: 'number' }]).signature;
    expect(typed).not.toBe(base);
    expect(createMapper(sync(), [{ name: 'amount', type: 'string' }]).signature).not.toBe(typed);
    expect(createMapper(sync(), [{ name: 'amount', type: 'number' }, { name: 'unused', type: 'string' }]).signature).toBe(typed);
  });
});
