import { quoteIdentifier } from '../../sql-identifier.ts';
import { canonicalClass, needsEscape, signatureMask, type FingerprintColumn } from './fingerprint-recipe.ts';

/**
 * Recipe v1 (recipe-v1.md) in DuckDB SQL: expressions over the current row's columns, meant
 * for a SELECT list (DuckDB computes a repeated subexpression once there). Every choice here
 * was measured against `hash()` (bench/fingerprint.bench.ts): one MD5 per row over a short
 * text, arithmetic instead of text functions where it can, no regex on the common types.
 */

const NULL_FIELD = `'\\N'`;
const LOW_64 = '18446744073709551615::UHUGEINT';

/** The row's fingerprint, a UBIGINT: the same number the Postgres and TypeScript implementations give. */
export function duckdbFingerprint(signature: string, columns: FingerprintColumn[]): string {
  // md5_number's low 64 bits are the digest's first 8 bytes, little-endian: no hex round trip.
  return `xor(CAST(md5_number(${rowText(columns)}) & ${LOW_64} AS UBIGINT), ${signatureMask(signature)}::UBIGINT)`;
}

/**
 * The canonical text. Escaping changes nothing unless a text value holds `|` or `\`, so one
 * check over all the row's text values picks the path: cheaper than a CASE around each value.
 */
function rowText(columns: FingerprintColumn[]): string {
  if (columns.length === 0) return `''`;
  const join = (fields: string[]) => `concat(${fields.join(`, '|', `)})`;
  const texts = columns.filter((column) => needsEscape(column.type)).map((column) => valueText(column));
  if (texts.length === 0) return join(columns.map(field));
  const all = texts.length === 1 ? texts[0]! : `concat(${texts.join(', ')})`;
  const plain = join(columns.map((column) => (needsEscape(column.type) ? `coalesce(${valueText(column)}, ${NULL_FIELD})` : field(column))));
  return `CASE WHEN contains(${all}, '|') OR contains(${all}, '\\') THEN ${join(columns.map(field))} ELSE ${plain} END`;
}

/** A text or JSON column's canonical text before escaping. */
function valueText(column: FingerprintColumn): string {
  const c = quoteIdentifier(column.name);
  return column.type === 'json' ? jsonText(c) : `CAST(${c} AS VARCHAR)`;
}

/** The row's key: one column's canonical text, or a JSON array of them; NULL when a part is null. */
export function duckdbKey(columns: FingerprintColumn[]): string {
  if (columns.length === 1) return keyPart(columns[0]!);
  const parts = columns.map(keyPart);
  const anyNull = parts.map((part) => `${part} IS NULL`).join(' OR ');
  const json = `CAST(to_json([${parts.join(', ')}]) AS VARCHAR)`;
  return `CASE WHEN ${anyNull} THEN NULL ELSE ${lowercaseEscapes(json)} END`;
}

function field(column: FingerprintColumn): string {
  const c = quoteIdentifier(column.name);
  switch (canonicalClass(column.type)) {
    case 'text': case 'json': return escaped(valueText(column));
    case 'number': return column.type === 'decimal' ? orNull(c, decimalText(c, column)) : `coalesce(CAST(${c} AS VARCHAR), ${NULL_FIELD})`;
    case 'double': return orNull(c, doubleText(c));
    case 'boolean': return `CASE WHEN ${c} IS NULL THEN ${NULL_FIELD} WHEN ${c} THEN 'true' ELSE 'false' END`;
    case 'date': return `CASE WHEN ${c} IS NULL THEN ${NULL_FIELD} WHEN isinf(${c}) THEN CAST(${c} AS VARCHAR) ELSE CAST(${c} - DATE '1970-01-01' AS VARCHAR) END`;
    case 'time': return `coalesce(CAST(epoch_us(${c}) AS VARCHAR), ${NULL_FIELD})`;
    // epoch_us is NULL for ±infinity, whose VARCHAR is 'infinity' / '-infinity'.
    case 'instant': return `coalesce(CAST(epoch_us(${c}) AS VARCHAR), CAST(${c} AS VARCHAR), ${NULL_FIELD})`;
    case 'binary': return `coalesce(lower(hex(${c})), ${NULL_FIELD})`;
  }
}

function keyPart(column: FingerprintColumn): string {
  const c = quoteIdentifier(column.name);
  switch (canonicalClass(column.type)) {
    case 'text': case 'boolean': return `CAST(${c} AS VARCHAR)`;
    case 'json': return jsonText(c);
    case 'number': return column.type === 'decimal' ? decimalText(c, column) : `CAST(${c} AS VARCHAR)`;
    case 'double': return doubleText(c);
    case 'date': return `CAST(${c} AS VARCHAR)`;
    case 'time': return `strftime(DATE '1970-01-01' + ${c}, '%H:%M:%S.%f')`;
    case 'instant': return column.type === 'timestamptz'
      ? `strftime(timezone('UTC', ${c}), '%Y-%m-%dT%H:%M:%S.%fZ')`
      : `strftime(${c}, '%Y-%m-%dT%H:%M:%S.%f')`;
    case 'binary': return `lower(hex(${c}))`;
  }
}

function orNull(column: string, text: string): string {
  return `CASE WHEN ${column} IS NULL THEN ${NULL_FIELD} ELSE ${text} END`;
}

/** `\` → `\\`, `|` → `\|`. */
function escaped(text: string): string {
  return `coalesce(replace(replace(${text}, '\\', '\\\\'), '|', '\\|'), ${NULL_FIELD})`;
}

/**
 * Decimal text without trailing fraction zeros. With the scale known, the exact decimal
 * remainder picks the scale to print at (cheap arithmetic); `rtrim` on text costs 5× more.
 */
function decimalText(c: string, column: FingerprintColumn): string {
  const scale = column.scale;
  if (scale === 0) return `CAST(${c} AS VARCHAR)`;
  if (scale === undefined) {
    const text = `CAST(${c} AS VARCHAR)`;
    return `CASE WHEN contains(${text}, '.') THEN rtrim(rtrim(${text}, '0'), '.') ELSE ${text} END`;
  }
  const precision = column.precision ?? 38;
  const branches = Array.from({ length: scale }, (_, kept) => {
    const step = kept === 0 ? '1' : `0.${'0'.repeat(kept - 1)}1`;
    return `WHEN ${c} % ${step} = 0 THEN CAST(CAST(${c} AS DECIMAL(${precision}, ${kept})) AS VARCHAR)`;
  });
  return `CASE ${branches.join(' ')} ELSE CAST(${c} AS VARCHAR) END`;
}

/**
 * A double as ECMAScript prints it, exponent without `+`: DuckDB's JSON writer gives the
 * shortest round-trip digits with JavaScript's notation thresholds, plus `.0` on integral values.
 */
function doubleText(c: string): string {
  const json = `CAST(to_json(CAST(${c} AS DOUBLE)) AS VARCHAR)`;
  return `CASE WHEN ${json} = '-0.0' THEN '0' WHEN suffix(${json}, '.0') THEN left(${json}, -2) ELSE ${json} END`;
}

/**
 * Minified JSON with numbers as doubles are printed: `to_json` minifies and re-prints
 * numbers; the regex (which steps over strings) drops the `.0` it gives integral ones.
 * A JSON `null` is NULL: sources hand both over as null.
 */
function jsonText(c: string): string {
  const json = `nullif(CAST(to_json(${c}) AS VARCHAR), 'null')`;
  const numbers = `regexp_replace(${json}, '("(?:[^"\\\\]|\\\\.)*")|-(0)\\.0([,\\]}]|$)|\\.0([,\\]}]|$)', '\\1\\2\\3\\4', 'g')`;
  return lowercaseEscapes(numbers);
}

/** DuckDB writes the control characters U+000B, U+000E, U+000F, U+001A–U+001F as `\u001F`; JSON.stringify as `\u001f`. */
function lowercaseEscapes(json: string): string {
  const upper = ['000B', '000E', '000F', '001A', '001B', '001C', '001D', '001E', '001F'];
  const fixed = upper.reduce((text, hex) => `replace(${text}, '\\u${hex}', '\\u${hex.toLowerCase()}')`, json);
  return `CASE WHEN contains(${json}, '\\u00') THEN ${fixed} ELSE ${json} END`;
}
