import pg from 'pg';
import type { Column, ColumnType, Value } from '../source.ts';
import { canonicalDate, canonicalTime, canonicalTimestamp, canonicalTimestamptz, plainBytes, stringifyJson } from '../canonical-values.ts';

/**
 * Postgres values arrive as text (every type parser is the identity) and are converted
 * here, by the column's type OID: numeric keeps every digit, int8 stays exact, timestamptz
 * keeps its microseconds and becomes a UTC instant whatever the session's TimeZone.
 */
type Convert = (text: string) => Value;

interface PgType { type: ColumnType; convert: Convert }

const integer: Convert = (text) => Number(text);
const int8: Convert = (text) => {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
};
const float: Convert = (text) => Number(text); // 'NaN', 'Infinity' read as such
const asText: Convert = (text) => text;
const bool: Convert = (text) => text === 't';
const json: Convert = (text) => JSON.parse(text) as Value;
const bytea: Convert = (text) =>
  text.startsWith('\\x') ? plainBytes(Buffer.from(text.slice(2), 'hex')) : plainBytes(pg.types.getTypeParser(17)(text) as Buffer);

const SCALARS: Record<number, PgType> = {
  16: { type: 'boolean', convert: bool },
  17: { type: 'blob', convert: bytea },
  20: { type: 'bigint', convert: int8 },
  21: { type: 'integer', convert: integer },
  23: { type: 'integer', convert: integer },
  26: { type: 'integer', convert: integer }, // oid
  114: { type: 'json', convert: json },
  3802: { type: 'json', convert: json }, // jsonb
  700: { type: 'double', convert: float },
  701: { type: 'double', convert: float },
  1700: { type: 'decimal', convert: asText }, // numeric: the text has every digit
  1082: { type: 'date', convert: canonicalDate },
  1083: { type: 'time', convert: canonicalTime },
  1114: { type: 'timestamp', convert: canonicalTimestamp },
  1184: { type: 'timestamptz', convert: canonicalTimestamptz },
};

/** Array type OID -> element type OID, for the arrays models commonly select. */
const ARRAYS: Record<number, number> = {
  1000: 16, 1001: 17, 1016: 20, 1005: 21, 1007: 23, 199: 114, 3807: 3802, 1021: 700, 1022: 701,
  1231: 1700, 1182: 1082, 1183: 1083, 1115: 1114, 1185: 1184, 1009: 25, 1015: 1043, 1014: 1042, 2951: 2950,
};

const arrayParser = (pg.types as unknown as {
  arrayParser: { create(text: string, transform: (element: string) => unknown): { parse(): unknown[] } };
}).arrayParser;

/** The column and the converter of one result field. Unknown types read as their text. */
export function pgColumn(field: { name: string; dataTypeID: number; dataTypeModifier: number }): { column: Column; convert: Convert } {
  const scalar = SCALARS[field.dataTypeID];
  if (scalar) {
    const column: Column = { name: field.name, type: scalar.type };
    // numeric(p, s) is stored in the type modifier as ((p << 16) | s) + 4; -1 when unconstrained.
    if (scalar.type === 'decimal' && field.dataTypeModifier >= 4) {
      column.precision = ((field.dataTypeModifier - 4) >> 16) & 0xffff;
      column.scale = (field.dataTypeModifier - 4) & 0xffff;
    }
    return { column, convert: scalar.convert };
  }
  const element = ARRAYS[field.dataTypeID];
  if (element !== undefined) {
    const convert = SCALARS[element]?.convert ?? asText;
    return { column: { name: field.name, type: 'json' }, convert: (text) => arrayParser.create(text, convert).parse() as Value };
  }
  return { column: { name: field.name, type: 'varchar' }, convert: asText };
}

/** A Value as a parameter pg sends as text. */
export function toPgParam(value: Value): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return stringifyJson(value);
}
