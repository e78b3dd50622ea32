import { RunError } from '../../errors.ts';
import { canonicalClass, type FingerprintColumn } from './fingerprint-recipe.ts';
import { escapedField, fingerprintFromMd5Hex, joinedFields, nullField, portableKey, type PortableSql } from './portable-fingerprint.ts';

/**
 * Recipe v1 (recipe-v1.md) in Databricks SQL, with functions Databricks documents: md5,
 * substring, conv, chr, replace, regexp_replace, instr, unix_date, unix_micros, `||` and the
 * integer operators. No literal holds a backslash (Databricks reads escapes in string literals).
 * Not covered, refused naming the column: TIMESTAMP_NTZ (unix_micros would read it in the
 * session's zone), DOUBLE and FLOAT, the JSON types and BINARY (printed forms unverified), and a
 * TIMESTAMP as a key part (date_format writes the session's zone).
 */

const SQL: PortableSql = {
  substring: (text, start, length) => `substring(${text}, ${start}, ${length})`,
  hex32: (hex) => `CAST(conv(${hex}, 16, 10) AS BIGINT)`,
  char: (code) => `chr(${code})`,
  replace: (text, from, to) => `replace(${text}, ${from}, ${to})`,
};

export function databricksQuote(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** The row's fingerprint, a DECIMAL(20,0): the same number the other implementations give. */
export function databricksFingerprint(signature: string, columns: FingerprintColumn[]): string {
  const text = joinedFields(columns.map(field));
  return fingerprintFromMd5Hex(signature, `md5(${text})`, SQL);
}

/** The row's key: one column's canonical text, or a JSON array of them; NULL when a part is null. */
export function databricksKey(columns: FingerprintColumn[]): string {
  for (const column of columns) if (column.type === 'timestamptz') refuse(column, 'as a key');
  return portableKey(columns, keyPart, databricksQuote, SQL);
}

function field(column: FingerprintColumn): string {
  const c = databricksQuote(column.name);
  switch (canonicalClass(column.type)) {
    case 'text': return `coalesce(${escapedField(`CAST(${c} AS STRING)`, SQL)}, ${nullField(SQL)})`;
    case 'date': return `coalesce(CAST(unix_date(${c}) AS STRING), ${nullField(SQL)})`;
    case 'instant': return column.type === 'timestamptz' ? `coalesce(CAST(unix_micros(${c}) AS STRING), ${nullField(SQL)})` : refuse(column);
    default: return `coalesce(${keyPart(column)}, ${nullField(SQL)})`;
  }
}

function keyPart(column: FingerprintColumn): string {
  const c = databricksQuote(column.name);
  const text = `CAST(${c} AS STRING)`;
  switch (column.type) {
    case 'varchar': case 'integer': case 'bigint': case 'date': return text;
    // DECIMAL(p,s) prints all s fraction digits: trailing zeros and a bare point dropped.
    case 'decimal': return (column.scale ?? 1) === 0 ? text
      : `CASE WHEN ${c} = 0 THEN '0' WHEN instr(${text}, '.') > 0 THEN regexp_replace(${text}, '[.]?0+$', '') ELSE ${text} END`;
    case 'boolean': return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
    default: return refuse(column);
  }
}

function refuse(column: FingerprintColumn, how = ''): never {
  throw new RunError(`column "${column.name}" (${column.type}): recipe v1 in Databricks SQL does not cover a ${column.type}${how ? ` ${how}` : ''} yet; use diff: workspace for this model`);
}
