import type { Column, Value } from '../source.ts';
import { formatDate, formatTime, formatTimestamp, plainBytes, stringifyJson } from '../canonical-values.ts';

/**
 * Snowflake's SQL API (format jsonv2) sends every value as a string, typed by the column's
 * `rowType` entry. This turns them into Lastmile's canonical values (source.ts):
 * - FIXED: the decimal text; scale 0 is an integer (number, bigint beyond 2^53)
 * - REAL: a float; BOOLEAN: "true"/"false"; TEXT: as is; BINARY: hex
 * - DATE: days since 1970-01-01; TIME: seconds since midnight with 9 decimals
 * - TIMESTAMP_NTZ/LTZ: seconds since the epoch with 9 decimals; TIMESTAMP_TZ adds a space and
 *   the zone as minutes + 1440 (the seconds are UTC already, so the zone changes nothing)
 * - VARIANT/OBJECT/ARRAY: JSON text
 */
export interface SnowflakeRowType {
  name: string;
  type: string;
  precision?: number | null;
  scale?: number | null;
  nullable?: boolean;
}

type Convert = (text: string) => Value;

const integer: Convert = (text) => {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
};
const real: Convert = (text) => {
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  return Number(text); // "NaN" reads as NaN
};
const asText: Convert = (text) => text;
const bool: Convert = (text) => text === 'true' || text === '1' || text === 'TRUE';
const json: Convert = (text) => JSON.parse(text) as Value;
const hex: Convert = (text) => plainBytes(Buffer.from(text, 'hex'));
const date: Convert = (text) => formatDate(Number(text));
const time: Convert = (text) => formatTime(epochMicros(text));
const ntz: Convert = (text) => formatTimestamp(epochMicros(text), false);
const instant: Convert = (text) => formatTimestamp(epochMicros(firstWord(text)), true);

/** The column and converter of one `rowType` entry. Types Lastmile does not know read as text. */
export function snowflakeColumn(rowType: SnowflakeRowType): { column: Column; convert: Convert } {
  const name = rowType.name;
  switch (rowType.type.toUpperCase()) {
    case 'FIXED':
    case 'NUMBER': {
      const scale = rowType.scale ?? 0;
      if (scale === 0) return { column: { name, type: 'bigint' }, convert: integer };
      const column: Column = { name, type: 'decimal', scale };
      if (rowType.precision) column.precision = rowType.precision;
      return { column, convert: asText };
    }
    case 'REAL':
    case 'FLOAT': return { column: { name, type: 'double' }, convert: real };
    case 'BOOLEAN': return { column: { name, type: 'boolean' }, convert: bool };
    case 'DATE': return { column: { name, type: 'date' }, convert: date };
    case 'TIME': return { column: { name, type: 'time' }, convert: time };
    case 'TIMESTAMP_NTZ': return { column: { name, type: 'timestamp' }, convert: ntz };
    case 'TIMESTAMP_LTZ':
    case 'TIMESTAMP_TZ': return { column: { name, type: 'timestamptz' }, convert: instant };
    case 'VARIANT':
    case 'OBJECT':
    case 'ARRAY': return { column: { name, type: 'json' }, convert: json };
    case 'BINARY': return { column: { name, type: 'blob' }, convert: hex };
    default: return { column: { name, type: 'varchar' }, convert: asText };
  }
}

/**
 * Microseconds for `1709294400.123456789` (seconds with up to 9 decimals, maybe negative),
 * computed on the digits so no float rounds a microsecond away. Nanoseconds are cut, as
 * every Lastmile source keeps microseconds.
 */
export function epochMicros(text: string): number | bigint {
  const negative = text.startsWith('-');
  const unsigned = negative ? text.slice(1) : text;
  const dot = unsigned.indexOf('.');
  const whole = dot < 0 ? unsigned : unsigned.slice(0, dot);
  const fraction = dot < 0 ? '' : unsigned.slice(dot + 1);
  const micros = BigInt(whole) * 1_000_000n + BigInt(fraction.slice(0, 6).padEnd(6, '0'));
  const exact = negative ? -micros : micros;
  const asNumber = Number(exact);
  return Number.isSafeInteger(asNumber) ? asNumber : exact;
}

function firstWord(text: string): string {
  const space = text.indexOf(' ');
  return space < 0 ? text : text.slice(0, space);
}

/** A Snowflake SQL API binding (`bindings: {"1": {type, value}}`): every value travels as text. */
export interface SnowflakeBinding {
  type: 'FIXED' | 'REAL' | 'TEXT' | 'BOOLEAN' | 'BINARY';
  value: string | null;
}

/**
 * A parameter as a binding. Dates and timestamps are canonical text and travel as TEXT:
 * Snowflake casts ISO text where the SQL compares it with a date or timestamp.
 */
export function snowflakeBinding(value: Value): SnowflakeBinding {
  if (value === null) return { type: 'TEXT', value: null };
  switch (typeof value) {
    case 'bigint': return { type: 'FIXED', value: value.toString() };
    case 'number': return Number.isInteger(value) ? { type: 'FIXED', value: String(value) } : { type: 'REAL', value: String(value) };
    case 'boolean': return { type: 'BOOLEAN', value: String(value) };
    case 'string': return { type: 'TEXT', value };
  }
  if (value instanceof Uint8Array) return { type: 'BINARY', value: Buffer.from(value).toString('hex').toUpperCase() };
  return { type: 'TEXT', value: stringifyJson(value) };
}
