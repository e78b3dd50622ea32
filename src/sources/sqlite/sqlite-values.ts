import type { Column, ColumnType, Value } from '../source.ts';
import { canonicalDate, canonicalTime, canonicalTimestamp, canonicalTimestamptz, parseJson, plainBytes, stringifyJson } from '../canonical-values.ts';

/**
 * SQLite stores values, not types: a column's declared type says what its values mean.
 * Integers arrive as bigint (safeIntegers) and become numbers when safe. A value that does
 * not fit its declared type (text in an INTEGER column) is handed over as stored.
 */
type Convert = (value: unknown) => Value;

const integer: Convert = (value) => {
  if (typeof value !== 'bigint') return value as Value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
};
const asText = (canonical: (text: string) => string): Convert => (value) => {
  if (typeof value !== 'string') return integer(value);
  try {
    return canonical(value);
  } catch {
    return value; // not in a form we read: keep it as stored
  }
};
const toBoolean: Convert = (value) => (typeof value === 'bigint' || typeof value === 'number' ? Number(value) !== 0 : (value as Value));
const toDouble: Convert = (value) => (typeof value === 'bigint' ? Number(value) : (value as Value));
const toDecimal: Convert = (value) => (typeof value === 'bigint' || typeof value === 'number' ? String(value) : (value as Value));
const toJson: Convert = (value) => (typeof value === 'string' ? parseJson(value) : integer(value));
const toBytes: Convert = (value) => (value instanceof Uint8Array ? plainBytes(value) : integer(value));
const any: Convert = (value) => (value instanceof Uint8Array ? plainBytes(value) : integer(value));
// A timestamptz stored without an offset is taken as UTC.
const toInstant: Convert = asText((text) => canonicalTimestamptz(/(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text) ? text : `${text}Z`));

/** The column and converter for a declared type (SQLite's own affinity rules, refined by name). */
export function sqliteColumn(name: string, declared: string | null, sample: unknown): { column: Column; convert: Convert } {
  const column = (type: ColumnType, convert: Convert, extra: Partial<Column> = {}) => ({ column: { name, type, ...extra }, convert });
  if (declared === null || declared === '') return column(typeOfValue(sample), any);
  const upper = declared.toUpperCase();
  if (upper.includes('BOOL')) return column('boolean', toBoolean);
  if (/BIGINT|INT8/.test(upper)) return column('bigint', integer);
  if (upper.includes('INT')) return column('integer', integer);
  if (upper.includes('JSON')) return column('json', toJson);
  if (/TIMESTAMPTZ|WITH TIME ZONE/.test(upper)) return column('timestamptz', toInstant);
  if (/TIMESTAMP|DATETIME/.test(upper)) return column('timestamp', asText(canonicalTimestamp));
  if (upper.includes('DATE')) return column('date', asText(canonicalDate));
  if (upper.includes('TIME')) return column('time', asText(canonicalTime));
  // SQLite turns DECIMAL text into a REAL (15 digits). Exact decimals need TEXT affinity,
  // e.g. a column declared TEXT_DECIMAL(18,4): read here as a decimal, stored as written.
  const decimal = /(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)/.exec(upper);
  if (decimal) return column('decimal', toDecimal, { precision: Number(decimal[1]), scale: Number(decimal[2] ?? 0) });
  if (/DECIMAL|NUMERIC/.test(upper)) return column('decimal', toDecimal);
  if (/CHAR|CLOB|TEXT/.test(upper)) return column('varchar', any);
  if (upper.includes('BLOB')) return column('blob', toBytes);
  if (/REAL|FLOA|DOUB/.test(upper)) return column('double', toDouble);
  return column(typeOfValue(sample), any);
}

/** Columns without a declared type (expressions): typed by their first value. */
function typeOfValue(value: unknown): ColumnType {
  if (typeof value === 'bigint') return 'bigint';
  if (typeof value === 'number') return 'double';
  if (value instanceof Uint8Array) return 'blob';
  return 'varchar';
}

const CANONICAL_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z?$/;

/**
 * A Value as a parameter better-sqlite3 binds. SQLite compares timestamps as text, so a
 * canonical timestamp is written the way SQLite writes them: `2024-03-01 10:00:00.5` (UTC).
 */
export function toSqliteParam(value: Value): unknown {
  if (typeof value === 'string') {
    const match = CANONICAL_TIMESTAMP.exec(value);
    if (!match) return value;
    const fraction = (match[3] ?? '').replace(/0+$/, '');
    return `${match[1]} ${match[2]}${fraction ? `.${fraction}` : ''}`;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === null || typeof value === 'number' || typeof value === 'bigint') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return stringifyJson(value);
}
