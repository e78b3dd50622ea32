import type { Column, ColumnType, Value } from '../source.ts';
import { canonicalDate, canonicalTime, canonicalTimestamp, canonicalTimestamptz, plainBytes, stringifyJson } from '../canonical-values.ts';

/**
 * MySQL/MariaDB values as mysql2 hands them with supportBigNumbers, bigNumberStrings and
 * dateStrings (BIGINT and DECIMAL as text, dates as text, JSON parsed), turned canonical by
 * the column's metadata. The session runs in UTC, so TIMESTAMP text is a UTC instant.
 */
type Convert = (value: unknown) => Value;

/** The parts of mysql2's column definition this file reads. */
export interface MysqlField {
  name: string;
  columnType: number;
  columnLength: number;
  characterSet: number;
  flags: number;
  decimals: number;
  extendedFormat?: string;
}

const BINARY_CHARSET = 63;
const UNSIGNED_FLAG = 32;
const T = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, TIMESTAMP: 7, LONGLONG: 8, INT24: 9,
  DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, VARCHAR: 15, BIT: 16, JSON: 245, NEWDECIMAL: 246,
  ENUM: 247, SET: 248, TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251, BLOB: 252, VAR_STRING: 253,
  STRING: 254, GEOMETRY: 255,
} as const;

const asIs: Convert = (value) => value as Value;
const toNumber: Convert = (value) => Number(value);
const toBoolean: Convert = (value) => (Buffer.isBuffer(value) ? value.some((byte) => byte !== 0) : Number(value) !== 0);
const toInteger: Convert = (value) => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(value as string);
};
const toBytes: Convert = (value) => (Buffer.isBuffer(value) ? plainBytes(value) : (value as Value));
const toText: Convert = (value) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));
// MySQL's zero dates ('0000-00-00') name no day: they read as null.
const zeroDateOr = (canonical: (text: string) => string): Convert => (value) =>
  (value as string).startsWith('0000-00-00') ? null : canonical(value as string);
// TIME also holds durations ('-01:00:00', '838:59:59'): those keep MySQL's text.
const toTime: Convert = (value) => (/^\d{2}:/.test(value as string) ? canonicalTime(value as string) : (value as string));
const toJson: Convert = (value) => (typeof value === 'string' ? JSON.parse(value) as Value : (value as Value));

export function mysqlColumn(field: MysqlField): { column: Column; convert: Convert } {
  const column = (type: ColumnType, convert: Convert, extra: Partial<Column> = {}) => ({ column: { name: field.name, type, ...extra }, convert });
  if (field.extendedFormat === 'json') return column('json', toJson);
  const binary = field.characterSet === BINARY_CHARSET;
  switch (field.columnType) {
    case T.TINY: return field.columnLength === 1 ? column('boolean', toBoolean) : column('integer', asIs);
    case T.SHORT: case T.LONG: case T.INT24: case T.YEAR: return column('integer', asIs);
    case T.LONGLONG: return column('bigint', toInteger);
    case T.FLOAT: case T.DOUBLE: return column('double', toNumber);
    case T.DECIMAL: case T.NEWDECIMAL: {
      // columnLength counts the digits, the point (when decimals) and the sign (when signed).
      const unsigned = (field.flags & UNSIGNED_FLAG) !== 0;
      const precision = field.columnLength - (field.decimals > 0 ? 1 : 0) - (unsigned ? 0 : 1);
      return column('decimal', asIs, { precision, scale: field.decimals });
    }
    case T.DATE: return column('date', zeroDateOr(canonicalDate));
    case T.DATETIME: return column('timestamp', zeroDateOr(canonicalTimestamp));
    case T.TIMESTAMP: return column('timestamptz', zeroDateOr((text) => canonicalTimestamptz(`${text}Z`)));
    case T.TIME: return column('time', toTime);
    case T.JSON: return column('json', toJson);
    case T.BIT: return field.columnLength === 1 ? column('boolean', toBoolean) : column('blob', toBytes);
    case T.GEOMETRY: return column('blob', toBytes);
    case T.TINY_BLOB: case T.MEDIUM_BLOB: case T.LONG_BLOB: case T.BLOB: case T.VAR_STRING: case T.STRING: case T.VARCHAR:
      return binary ? column('blob', toBytes) : column('varchar', toText);
    default: return column('varchar', toText);
  }
}

const CANONICAL_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)Z?$/;

/**
 * A Value as a parameter mysql2 escapes. Canonical timestamps lose their `T` and `Z`: MySQL
 * reads `2024-03-01 10:00:00.123456`, and the session is in UTC.
 */
export function toMysqlParam(value: Value): unknown {
  if (typeof value === 'string') {
    const match = CANONICAL_TIMESTAMP.exec(value);
    return match ? `${match[1]} ${match[2]}` : value;
  }
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return stringifyJson(value);
}
