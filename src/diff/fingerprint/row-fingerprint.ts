import type { Row, Value } from '../../sources/source.ts';
import {
  canonicalDate, canonicalTime, canonicalTimestamp, canonicalTimestamptz, parseDate, parseTime, parseTimestamp,
} from '../../sources/canonical-values.ts';
import {
  FIELD_SEPARATOR, NULL_FIELD, canonicalClass, escapeField, md5Low64, needsEscape, signatureMask, type FingerprintColumn,
} from './fingerprint-recipe.ts';

/**
 * Recipe v1 (recipe-v1.md) in TypeScript, over a row in the canonical value form sources hand
 * over (source.ts). Gives the same numbers and keys as the DuckDB and Postgres SQL.
 */

/** The row's fingerprint as an unsigned 64-bit decimal, the form row state stores. */
export function fingerprintRow(signature: string, columns: FingerprintColumn[], row: Row): string {
  return rowFingerprinter(signature, columns)(row);
}

/** fingerprintRow for many rows of one mapping: the signature is hashed once. */
export function rowFingerprinter(signature: string, columns: FingerprintColumn[]): (row: Row) => string {
  const mask = signatureMask(signature);
  return (row) => (md5Low64(canonicalRowText(columns, row)) ^ mask).toString();
}

/** The text whose MD5 makes the fingerprint: one field per column, `|` between them. */
export function canonicalRowText(columns: FingerprintColumn[], row: Row): string {
  let text = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) text += FIELD_SEPARATOR;
    text += canonicalField(columns[i]!, row[columns[i]!.name]);
  }
  return text;
}

export function canonicalField(column: FingerprintColumn, value: Value | undefined): string {
  if (value === null || value === undefined) return NULL_FIELD;
  const text = fieldText(column, value);
  return needsEscape(column.type) ? escapeField(text) : text;
}

/** The row's key: one column's canonical text, or a JSON array of them; null when a part is null. */
export function keyOfRow(columns: FingerprintColumn[], row: Row): string | null {
  const parts: string[] = [];
  for (const column of columns) {
    const value = row[column.name];
    if (value === null || value === undefined) return null;
    parts.push(keyText(column, value));
  }
  return parts.length === 1 ? parts[0]! : JSON.stringify(parts);
}

function fieldText(column: FingerprintColumn, value: Value): string {
  switch (canonicalClass(column.type)) {
    case 'date': return temporal(value, (text) => parseDate(text));
    case 'time': return temporal(value, (text) => parseTime(text));
    case 'instant': return temporal(value, (text) => parseTimestamp(text));
    default: return keyText(column, value);
  }
}

function keyText(column: FingerprintColumn, value: Value): string {
  switch (column.type) {
    case 'integer': case 'bigint': case 'decimal': return numberText(value);
    case 'double': return doubleText(typeof value === 'number' ? value : Number(value));
    case 'boolean': return String(value);
    case 'varchar': return typeof value === 'string' ? value : plainText(value);
    case 'json': return canonicalJson(value);
    case 'blob': return hex(value);
    case 'date': return canonicalDate(String(value));
    case 'time': return canonicalTime(String(value));
    case 'timestamp': return canonicalTimestamp(String(value));
    case 'timestamptz': return canonicalTimestamptz(String(value));
  }
}

/** Epoch days or microseconds (µs since midnight for a time); infinity as `infinity` / `-infinity`. */
function temporal(value: Value, parse: (text: string) => number | bigint): string {
  const n = parse(String(value));
  if (n === Infinity) return 'infinity';
  if (n === -Infinity) return '-infinity';
  return String(n);
}

/** Integers as digits; decimal text without trailing fraction zeros (`12.50` → `12.5`, `-0.00` → `0`). */
function numberText(value: Value): string {
  if (typeof value === 'number' || typeof value === 'bigint') return typeof value === 'number' ? doubleText(value) : value.toString();
  let text = String(value);
  if (text.includes('.')) {
    let end = text.length;
    while (text.charCodeAt(end - 1) === 48) end--;
    if (text.charCodeAt(end - 1) === 46) end--;
    text = text.slice(0, end);
  }
  return text === '-0' ? '0' : text;
}

/** ECMAScript's shortest round-trip form, without the exponent's `+` (`1e21`, `1.5e-7`); -0 is `0`. */
export function doubleText(n: number): string {
  const text = String(n);
  return text.includes('e+') ? text.replace('e+', 'e') : text;
}

/** Minified JSON, members in the value's own order, numbers as doubleText, strings as JSON.stringify writes them. */
export function canonicalJson(value: Value): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string': return JSON.stringify(value);
    case 'number': return Number.isFinite(value) ? doubleText(value) : 'null';
    case 'bigint': return value.toString();
    case 'boolean': return String(value);
  }
  if (value instanceof Uint8Array) return canonicalJson(Array.from(value));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function hex(value: Value): string {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  return Buffer.from(String(value), 'utf8').toString('hex');
}

/** A non-text value in a text column (SQLite's loose typing): its own text. */
function plainText(value: Value): string {
  if (typeof value !== 'object') return String(value);
  return value instanceof Uint8Array ? hex(value) : canonicalJson(value);
}
