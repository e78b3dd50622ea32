import { RunError } from '../../errors.ts';
import { canonicalClass, signatureMask, type FingerprintColumn } from './fingerprint-recipe.ts';
import { escapedField, joinedFields, nullField, portableKey, type TextSql } from './portable-fingerprint.ts';

/**
 * Recipe v1 (recipe-v1.md) in ClickHouse SQL. ClickHouse has what the recipe needs natively:
 * `reinterpretAsUInt64(MD5(t))` is the digest's first 8 bytes read little-endian, XORed with
 * the mask as a UInt64. No literal holds a backslash (ClickHouse reads escapes in literals).
 * Every DateTime is an instant (the source reads it so). Not covered, refused naming the column:
 * Float32/Float64, the JSON-like types and anything read as bytes (printed forms unverified).
 */

const SQL: TextSql = {
  char: (code) => `char(${code})`,
  replace: (text, from, to) => `replaceAll(${text}, ${from}, ${to})`,
};

export function clickhouseQuote(name: string): string {
  return `"${name.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** The row's fingerprint, a UInt64: the same number the other implementations give. */
export function clickhouseFingerprint(signature: string, columns: FingerprintColumn[]): string {
  const text = joinedFields(columns.map(field));
  return `bitXor(reinterpretAsUInt64(MD5(${text})), toUInt64('${signatureMask(signature)}'))`;
}

/** The row's key: one column's canonical text, or a JSON array of them; NULL when a part is null. */
export function clickhouseKey(columns: FingerprintColumn[]): string {
  return portableKey(columns, keyPart, clickhouseQuote, SQL);
}

function field(column: FingerprintColumn): string {
  const c = clickhouseQuote(column.name);
  switch (canonicalClass(column.type)) {
    case 'text': return `coalesce(${escapedField(`toString(${c})`, SQL)}, ${nullField(SQL)})`;
    case 'date': return `coalesce(toString(date_diff('day', CAST('1970-01-01' AS DATE), ${c})), ${nullField(SQL)})`;
    case 'instant': return `coalesce(toString(toUnixTimestamp64Micro(toDateTime64(${c}, 6))), ${nullField(SQL)})`;
    default: return `coalesce(${keyPart(column)}, ${nullField(SQL)})`;
  }
}

function keyPart(column: FingerprintColumn): string {
  const c = clickhouseQuote(column.name);
  const text = `toString(${c})`;
  switch (column.type) {
    case 'varchar': case 'integer': case 'bigint': case 'date': return text;
    // Whether a Decimal prints its trailing zeros is a server setting: dropped here either way.
    case 'decimal': return `CASE WHEN ${c} = 0 THEN '0' WHEN ${text} LIKE '%.%' THEN replaceRegexpOne(${text}, '[.]?0+$', '') ELSE ${text} END`;
    case 'boolean': return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
    case 'timestamptz': case 'timestamp': return `formatDateTime(toDateTime64(${c}, 6), '%Y-%m-%dT%H:%i:%S.%fZ', 'UTC')`;
    default:
      throw new RunError(`column "${column.name}" (${column.type}): recipe v1 in ClickHouse SQL does not cover a ${column.type} yet; use diff: workspace for this model`);
  }
}
