import type { Value } from '../../sources/source.ts';
import { bigintText } from '../sql-batch.ts';
import type { PgColumn } from './postgres-schema.ts';

/**
 * How a Lastmile value travels to a Postgres column, as a bind parameter or as COPY text.
 * JSON columns take JSON text (a string is taken to be JSON text already); objects elsewhere
 * go as JSON too; arrays for array columns become array literals; bytes become bytea.
 */
export function toParam(value: Value | undefined, column: PgColumn | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (column?.json) return typeof value === 'string' ? value : JSON.stringify(value, bigintText);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return arrayLiteral(value);
  if (typeof value === 'object') return JSON.stringify(value, bigintText);
  return value;
}

/** The text form COPY reads for a value, or null for SQL NULL. */
export function copyText(value: Value | undefined, column: PgColumn | undefined): string | null {
  const param = toParam(value, column);
  if (param === null) return null;
  if (Buffer.isBuffer(param)) return `\\x${param.toString('hex')}`;
  return String(param);
}

/** One CSV line for COPY … WITH (FORMAT csv): NULL is an empty unquoted field, text is quoted. */
export function csvLine(values: (string | null)[]): string {
  return values.map((text) => (text === null ? '' : csvQuoted(text))).join(',') + '\n';
}

/** A CSV field for COPY … WITH (FORMAT csv), quoted: so even empty text is not read as NULL. */
export function csvQuoted(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

/** A Postgres array literal: `{"a","b",NULL}` (nested arrays for multi-dimensional columns). */
function arrayLiteral(items: Value[]): string {
  const elements = items.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (Array.isArray(item)) return arrayLiteral(item);
    const text = item instanceof Uint8Array
      ? `\\x${Buffer.from(item.buffer, item.byteOffset, item.byteLength).toString('hex')}`
      : typeof item === 'object' ? JSON.stringify(item, bigintText) : String(item);
    return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return `{${elements.join(',')}}`;
}
