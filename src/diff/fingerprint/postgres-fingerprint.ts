import { quoteIdentifier } from '../../sql-identifier.ts';
import { canonicalClass, signatureMask, type FingerprintColumn } from './fingerprint-recipe.ts';

/**
 * Recipe v1 (recipe-v1.md) in PostgreSQL SQL (13+ for trim_scale, 14+ for an exact
 * `extract(epoch …)`), as expressions over the current row's columns. String literals are
 * E'' strings, so the SQL means the same whatever standard_conforming_strings says.
 */

const NULL_FIELD = `E'\\\\N'`;
const TWO_64 = '18446744073709551616';

/** The row's fingerprint, a numeric(20,0) (Postgres has no unsigned 64-bit type): the state store's `fp`. */
export function postgresFingerprint(signature: string, columns: FingerprintColumn[]): string {
  const text = columns.length === 0 ? `''` : `concat_ws('|', ${columns.map(field).join(', ')})`;
  // The digest's first 8 bytes read little-endian: their hex pairs in reverse order.
  const low64 = `regexp_replace(left(md5(${text}), 16), '(..)(..)(..)(..)(..)(..)(..)(..)', E'\\\\8\\\\7\\\\6\\\\5\\\\4\\\\3\\\\2\\\\1')`;
  const mask = signatureMask(signature).toString(16).padStart(16, '0');
  const signed = `((('x' || ${low64})::bit(64) # x'${mask}')::bit(64))::bigint`;
  return `((${signed}::numeric + ${TWO_64}) % ${TWO_64})`;
}

/** The row's key: one column's canonical text, or a JSON array of them; NULL when a part is null. */
export function postgresKey(columns: FingerprintColumn[]): string {
  if (columns.length === 1) return keyPart(columns[0]!);
  const parts = columns.map(keyPart);
  const anyNull = parts.map((part) => `${part} IS NULL`).join(' OR ');
  return `CASE WHEN ${anyNull} THEN NULL ELSE to_json(ARRAY[${parts.join(', ')}]::text[])::text END`;
}

function field(column: FingerprintColumn): string {
  const c = quoteIdentifier(column.name);
  switch (canonicalClass(column.type)) {
    case 'text': return `coalesce(${escaped(`${c}::text`)}, ${NULL_FIELD})`;
    case 'json': return `coalesce(${escaped(jsonText(c))}, ${NULL_FIELD})`;
    case 'date': return `CASE WHEN ${c} IS NULL THEN ${NULL_FIELD} WHEN isfinite(${c}) THEN (${c} - DATE '1970-01-01')::text ELSE ${c}::text END`;
    case 'time': return `coalesce(${epochMicros(c)}::text, ${NULL_FIELD})`;
    case 'instant': return `CASE WHEN ${c} IS NULL THEN ${NULL_FIELD} WHEN isfinite(${c}) THEN ${epochMicros(c)}::text ELSE ${c}::text END`;
    default: return `coalesce(${keyPart(column)}, ${NULL_FIELD})`;
  }
}

function keyPart(column: FingerprintColumn): string {
  const c = quoteIdentifier(column.name);
  switch (column.type) {
    case 'varchar': case 'integer': case 'bigint': return `${c}::text`;
    case 'decimal': return `trim_scale(${c})::text`;
    case 'double': return doubleText(`${c}::text`);
    case 'boolean': return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
    case 'json': return jsonText(c);
    case 'blob': return `encode(${c}, 'hex')`;
    case 'date': return `CASE WHEN isfinite(${c}) THEN to_char(${c}, 'YYYY-MM-DD') ELSE ${c}::text END`;
    case 'time': return `to_char(DATE '2000-01-01' + ${c}, 'HH24:MI:SS.US')`;
    case 'timestamp': return `CASE WHEN isfinite(${c}) THEN to_char(${c}, 'YYYY-MM-DD"T"HH24:MI:SS.US') ELSE ${c}::text END`;
    case 'timestamptz': return `CASE WHEN isfinite(${c}) THEN to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') ELSE ${c}::text END`;
  }
}

function epochMicros(c: string): string {
  return `(extract(epoch FROM ${c}) * 1000000)::bigint`;
}

function escaped(text: string): string {
  return `replace(replace(${text}, E'\\\\', E'\\\\\\\\'), '|', E'\\\\|')`;
}

/**
 * Postgres prints the shortest round-trip digits (extra_float_digits ≥ 1, the default) but
 * switches to an exponent at 1e15 and 1e-5 (float4: 1e6): rewritten to ECMAScript's
 * notation, which uses one from 1e21 and below 1e-6, and prints no `+` in the exponent.
 */
function doubleText(printed: string): string {
  const text = shortestText(printed);
  const mantissa = `split_part(${text}, 'e', 1)`;
  const exponent = `split_part(${text}, 'e', 2)::int`;
  const digits = `translate(${mantissa}, '-.', '')`;
  const sign = `CASE WHEN left(${text}, 1) = '-' THEN '-' ELSE '' END`;
  const fixed = `CASE WHEN ${exponent} < 0 THEN ${sign} || '0.' || repeat('0', -${exponent} - 1) || ${digits}
    WHEN length(${digits}) <= ${exponent} + 1 THEN ${sign} || ${digits} || repeat('0', ${exponent} + 1 - length(${digits}))
    ELSE ${sign} || left(${digits}, ${exponent} + 1) || '.' || substr(${digits}, ${exponent} + 2) END`;
  return `CASE WHEN ${printed} = '-0' THEN '0' WHEN strpos(${printed}, 'e') = 0 THEN ${printed}
    WHEN ${exponent} >= 21 OR ${exponent} <= -7 THEN ${mantissa} || 'e' || ${exponent}::text
    ELSE ${fixed} END`;
}

/**
 * Postgres's exponent form, one digit shorter when that still reads back as the same double.
 * Postgres's shortest form leaves out a digit string lying exactly on the rounding boundary,
 * where ECMAScript and DuckDB take it: 1e23 prints as 9.999999999999999e+22, and
 * 18014398509481992 as 1.8014398509481992e+16 (ECMAScript: 18014398509481990). Such ties
 * need an integral double (from 2^54 on), so fixed notation never has them.
 */
function shortestText(printed: string): string {
  const mantissa = `split_part(${printed}, 'e', 1)`;
  const exponent = `split_part(${printed}, 'e', 2)::int`;
  const count = `length(translate(${mantissa}, '-.', ''))`;
  const shorter = `round(${mantissa}::numeric, ${count} - 2)`;
  const same = `(${shorter}::text || 'e' || ${exponent})::float8 = ${printed}::float8`;
  // CASE, not AND, fixes the order: no exponent to read in fixed notation, no overflow past 1e308.
  return `CASE WHEN strpos(${printed}, 'e') = 0 THEN ${printed}
    WHEN ${exponent} NOT BETWEEN 15 AND 307 THEN ${printed}
    WHEN ${count} > 1 AND ${same} THEN CASE WHEN abs(${shorter}) >= 10
      THEN trim_scale(${shorter} / 10)::text || 'e' || (${exponent} + 1) ELSE trim_scale(${shorter})::text || 'e' || ${exponent} END
    ELSE ${printed} END`;
}

/**
 * Minified JSON as jsonb prints it (jsonb's member order: shorter keys first), spaces dropped
 * and trailing fraction zeros removed outside strings: the regex steps over every string.
 * A JSON `null` is NULL: sources hand both over as null.
 */
function jsonText(c: string): string {
  const pattern = `("(?:[^"\\\\]|\\\\.)*")| |(\\.[0-9]*[1-9])0+([],}]|$)|\\.0+([],}]|$)`;
  return `regexp_replace(nullif(to_jsonb(${c})::text, 'null'), E'${pattern.replaceAll('\\', '\\\\')}', E'\\\\1\\\\2\\\\3\\\\4', 'g')`;
}
