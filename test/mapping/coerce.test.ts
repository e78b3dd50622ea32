import { describe, expect, it } from 'vitest';
import { coerce } from '../../src/mapping/coerce.ts';
import type { FieldSpec, FieldType } from '../../src/destinations/destination.ts';
import type { Value } from '../../src/sources/source.ts';

const spec = (type: FieldType, extra: Partial<FieldSpec> = {}): FieldSpec => ({ name: 'f', type, ...extra });
const to = (type: FieldType, value: Value, extra?: Partial<FieldSpec>) => coerce(value, spec(type, extra));
const accepted = (type: FieldType, pairs: [Value, Value][], extra?: Partial<FieldSpec>) => {
  for (const [input, output] of pairs) expect(to(type, input, extra), `${type} ${String(input)}`).toEqual({ ok: true, value: output });
};
const refused = (type: FieldType, inputs: Value[], message: RegExp, extra?: Partial<FieldSpec>) => {
  for (const input of inputs) {
    const result = to(type, input, extra);
    expect(result.ok, `${type} ${String(input)} should be refused`).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  }
};

describe('coerce', () => {
  it('keeps null for every type; an empty string is empty for all but text and json', () => {
    for (const type of ['string', 'integer', 'number', 'boolean', 'date', 'datetime', 'email', 'enum', 'json', 'id'] as const) {
      expect(to(type, null)).toEqual({ ok: true, value: null });
    }
    expect(to('integer', '')).toEqual({ ok: true, value: null });
    expect(to('date', '')).toEqual({ ok: true, value: null });
    expect(to('string', '')).toEqual({ ok: true, value: '' });
  });

  it('string: numbers, booleans, bigints and objects become text; maxLength counts characters', () => {
    accepted('string', [['abc', 'abc'], [12.5, '12.5'], [true, 'true'], [12345678901234567890n, '12345678901234567890'], ['2024-03-01', '2024-03-01'], [{ a: [1] }, '{"a":[1]}']]);
    accepted('string', [['héllo', 'héllo'], ['🙂🙂🙂', '🙂🙂🙂']], { maxLength: 5 });
    refused('string', ['toolong'], /^text of 7 characters is longer than the field's maximum of 5$/, { maxLength: 5 });
    refused('string', [new Uint8Array([1, 2])], /^binary data \(2 bytes\) is not text$/);
  });

  it('integer: whole numbers and numeric text; big ones stay exact as bigint', () => {
    accepted('integer', [[42, 42], ['42', 42], [' -7 ', -7], ['12.00', 12], [10n, 10], ['1e3', 1000], ['123456789012345678901', 123456789012345678901n]]);
    refused('integer', ['abc', 12.5, '12.5', true, 'NaN'], /is not an integer$/);
    expect(to('integer', 'abc')).toEqual({ ok: false, message: '"abc" is not an integer' });
  });

  it('number: numeric text becomes a number when exact, and stays text when a float would lose digits', () => {
    accepted('number', [[1.5, 1.5], ['19.90', 19.9], ['+3', 3], ['-0.25', -0.25], ['1e3', 1000], [7n, 7]]);
    accepted('number', [['12345678901234567890.123456789', '12345678901234567890.123456789'], ['0.1000000000000000055511151231257827', '0.1000000000000000055511151231257827']]);
    refused('number', ['abc', '12,5', true, Number.POSITIVE_INFINITY, { a: 1 }], /is not a (finite )?number$/);
    accepted('number', [['9999.99', 9999.99]], { precision: 6, scale: 2 });
    refused('number', ['12345.5', 123456], /digits before the decimal point; the field holds at most 4$/, { precision: 6, scale: 2 });
  });

  it('boolean: true/false, yes/no, 1/0', () => {
    accepted('boolean', [[true, true], ['TRUE', true], ['yes', true], ['1', true], [1, true], [0, false], ['No', false], ['false', false], [0n, false]]);
    refused('boolean', ['maybe', 2, 'on'], /is not a boolean \(true\/false, yes\/no, 1\/0\)$/);
  });

  it('date: YYYY-MM-DD; timestamps are cut to their date in UTC', () => {
    accepted('date', [
      ['2024-03-01', '2024-03-01'],
      ['2024-03-01T12:00:00.123456', '2024-03-01'],
      ['2024-03-01 23:30:00-02:00', '2024-03-02'],
      ['2024-02-29T00:00:00Z', '2024-02-29'],
    ]);
    refused('date', ['2023-02-29', '01/03/2024', 'yesterday', 20240301], /is not a date \(YYYY-MM-DD\)$/);
  });

  it('datetime: an ISO instant in UTC, keeping sub-millisecond digits', () => {
    accepted('datetime', [
      ['2024-03-01T12:00:00.123456Z', '2024-03-01T12:00:00.123456Z'],
      ['2024-03-01T12:00:00.123456', '2024-03-01T12:00:00.123456Z'],
      ['2024-03-01 14:30:05+02:00', '2024-03-01T12:30:05Z'],
      ['2024-03-01T00:30:00.5-01:30', '2024-03-01T02:00:00.5Z'],
      ['2024-03-01', '2024-03-01T00:00:00Z'],
    ]);
    refused('datetime', ['2024-03-01T25:00:00', 'now', 1709294400], /is not a date-time/);
  });

  it('email: a basic shape check, trimmed', () => {
    accepted('email', [['ada@example.com', 'ada@example.com'], [' Ada.Lovelace+crm@mail.example.org ', 'Ada.Lovelace+crm@mail.example.org']]);
    refused('email', ['ada', 'ada@example', 'a b@example.com', '@example.com', 42], /is not an email address$/);
  });

  it('enum: the value must be one of the options', () => {
    accepted('enum', [['gold', 'gold'], [1, '1']], { options: ['gold', 'silver', '1'] });
    refused('enum', ['Gold', 'bronze'], /^"(Gold|bronze)" is not one of gold \| silver$/, { options: ['gold', 'silver'] });
    accepted('enum', [['anything', 'anything']]);
  });

  it('json: any value as it is', () => {
    accepted('json', [[{ a: [1, 'x'] }, { a: [1, 'x'] }], ['text', 'text'], [3, 3]]);
  });

  it('id: text or a number, as text', () => {
    accepted('id', [['003xx000004TmiQ', '003xx000004TmiQ'], [42, '42'], [9007199254740993n, '9007199254740993'], ['  ', null]]);
    refused('id', [true, { id: 1 }], /is not an identifier/);
  });
});
