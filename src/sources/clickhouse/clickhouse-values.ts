import type { Column, Value } from '../source.ts';
import { canonicalDate, canonicalTimestamptz } from '../canonical-values.ts';

type Convert = (value: unknown) => Value;

const int64: Convert = (value) => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(String(value));
};
const same: Convert = (value) => value as Value;
const text: Convert = (value) => String(value);

/**
 * A column of JSONCompactEachRowWithNamesAndTypes, by its ClickHouse type, read with the
 * settings the source sends: 64-bit integers and decimals as strings (every digit), DateTime
 * and DateTime64 in ISO form in UTC (`date_time_output_format=iso`), named tuples as objects.
 * Nullable(…) and LowCardinality(…) read as what they wrap. A DateTime is always an instant.
 */
export function clickhouseColumn(name: string, chType: string): { column: Column; convert: Convert } {
  const type = unwrap(chType);
  const as = (logical: Column['type'], convert: Convert) => ({ column: { name, type: logical }, convert });
  const decimal = /^Decimal(?:(32|64|128|256)\((\d+)\)|\((\d+),\s*(\d+)\))$/.exec(type);
  if (decimal) {
    const precision = decimal[1] ? { 32: 9, 64: 18, 128: 38, 256: 76 }[decimal[1]]! : Number(decimal[3]);
    const scale = Number(decimal[2] ?? decimal[4]);
    return { column: { name, type: 'decimal', precision, scale }, convert: text };
  }
  if (/^(Int8|Int16|Int32|UInt8|UInt16)$/.test(type)) return as('integer', Number);
  if (/^(Int64|UInt32|UInt64)$/.test(type)) return as('bigint', int64);
  if (/^(Int128|Int256|UInt128|UInt256)$/.test(type)) return as('decimal', text);
  if (/^(Float32|Float64|BFloat16)$/.test(type)) return as('double', (v) => (v === null ? null : Number(v)));
  if (type === 'Bool') return as('boolean', (v) => v === true || v === 1 || v === 'true');
  if (/^Date(32)?$/.test(type)) return as('date', (v) => canonicalDate(String(v)));
  if (/^DateTime(64)?(\(.*\))?$/.test(type)) return as('timestamptz', (v) => canonicalTimestamptz(String(v)));
  if (/^(Array|Map|Tuple|Nested|JSON|Object|Variant|Dynamic)\b/.test(type)) return as('json', same);
  return as('varchar', text); // String, FixedString, UUID, Enum, IPv4/6, …
}

function unwrap(type: string): string {
  const inner = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(type.trim());
  return inner ? unwrap(inner[1]!) : type.trim();
}

/**
 * A typed query parameter for `value` (`{p1:Int64}` and its text), so a cursor mark compares as
 * what it is: an instant against a DateTime, a number against a number.
 */
export function clickhouseParameter(value: Value): { type: string; text: string } {
  if (value === null) return { type: 'Nullable(String)', text: '\\N' };
  if (typeof value === 'bigint') return { type: value < 0n ? 'Int64' : 'UInt64', text: value.toString() };
  if (typeof value === 'number') return Number.isSafeInteger(value) ? { type: 'Int64', text: String(value) } : { type: 'Float64', text: String(value) };
  if (typeof value === 'boolean') return { type: 'Bool', text: String(value) };
  if (typeof value === 'string') {
    // A timestamptz mark (`2024-03-01T10:00:00.123456Z`) is an instant in UTC.
    const instant = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)Z$/.exec(value);
    if (instant) return { type: "DateTime64(6, 'UTC')", text: `${instant[1]} ${instant[2]}` };
    return { type: 'String', text: value };
  }
  if (value instanceof Uint8Array) return { type: 'String', text: Buffer.from(value).toString('latin1') };
  return { type: 'String', text: JSON.stringify(value) };
}
