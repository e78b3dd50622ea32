import { canonicalClass, signatureMask, type FingerprintColumn } from './fingerprint-recipe.ts';
import { RunError } from '../../errors.ts';

/**
 * Recipe v1 (recipe-v1.md) in MySQL / MariaDB SQL, as expressions over the current row's
 * columns. The session runs in UTC (the MySQL source sets it), so a TIMESTAMP is its instant.
 * Backslashes are written as CHAR(92), so the SQL means the same whatever sql_mode says of
 * them. Doubles and JSON are not covered: MySQL prints neither in the canonical form.
 */

// One explicit collation for every text in the row, so MySQL never has to choose between them.
const COLLATION = 'utf8mb4_bin';
const BACKSLASH = `(CHAR(92 USING utf8mb4) COLLATE ${COLLATION})`;
const NULL_FIELD = `CONCAT(${BACKSLASH}, 'N')`;

/** The row's fingerprint, a BIGINT UNSIGNED: the same number the other implementations give. */
export function mysqlFingerprint(signature: string, columns: FingerprintColumn[]): string {
  const text = columns.length === 0 ? `''` : `CONCAT_WS('|', ${columns.map(field).join(', ')})`;
  // The digest's first 8 bytes read little-endian: reversed as bytes, then read as hex.
  const low64 = `CAST(CONV(HEX(REVERSE(UNHEX(LEFT(MD5(${text}), 16)))), 16, 10) AS UNSIGNED)`;
  return `(${low64} ^ ${signatureMask(signature).toString()})`;
}

/** The row's key: one column's canonical text, or a JSON array of them; NULL when a part is null. */
export function mysqlKey(columns: FingerprintColumn[]): string {
  if (columns.length === 1) return keyPart(columns[0]!);
  const parts = columns.map(keyPart);
  const anyNull = columns.map((column) => `${quote(column.name)} IS NULL`).join(' OR ');
  return `CASE WHEN ${anyNull} THEN NULL ELSE CONCAT('[', CONCAT_WS(',', ${parts.map((p) => `JSON_QUOTE(${p})`).join(', ')}), ']') END`;
}

function field(column: FingerprintColumn): string {
  const c = quote(column.name);
  switch (canonicalClass(column.type)) {
    case 'text': return `COALESCE(${escaped(c)}, ${NULL_FIELD})`;
    case 'date': return `COALESCE(CAST(DATEDIFF(${c}, '1970-01-01') AS CHAR), ${NULL_FIELD})`;
    case 'time': return `COALESCE(CAST((HOUR(${c}) * 3600 + MINUTE(${c}) * 60 + SECOND(${c})) * 1000000 + MICROSECOND(${c}) AS CHAR), ${NULL_FIELD})`;
    case 'instant': return `COALESCE(CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${c}) AS CHAR), ${NULL_FIELD})`;
    default: return `COALESCE(${keyPart(column)}, ${NULL_FIELD})`;
  }
}

function keyPart(column: FingerprintColumn): string {
  const c = quote(column.name);
  switch (column.type) {
    case 'varchar': return `(CONVERT(${c} USING utf8mb4) COLLATE ${COLLATION})`;
    case 'integer': case 'bigint': return `CAST(${c} AS CHAR)`;
    case 'decimal': return column.scale === 0
      ? `CAST(${c} AS CHAR)`
      : `CASE WHEN ${c} = 0 THEN '0' ELSE TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM CAST(${c} AS CHAR))) END`;
    case 'boolean': return `CASE WHEN ${c} THEN 'true' WHEN NOT ${c} THEN 'false' END`;
    case 'blob': return `LOWER(HEX(${c}))`;
    case 'date': return `DATE_FORMAT(${c}, '%Y-%m-%d')`;
    case 'time': return `TIME_FORMAT(${c}, '%H:%i:%s.%f')`;
    case 'timestamp': return `DATE_FORMAT(${c}, '%Y-%m-%dT%H:%i:%s.%f')`;
    case 'timestamptz': return `DATE_FORMAT(${c}, '%Y-%m-%dT%H:%i:%s.%fZ')`;
    case 'double': case 'json':
      throw new RunError(`column "${column.name}" (${column.type}): MySQL cannot fingerprint a ${column.type} in recipe v1's canonical form; use diff: workspace for this model`);
  }
}

function escaped(c: string): string {
  return `REPLACE(REPLACE((CONVERT(${c} USING utf8mb4) COLLATE ${COLLATION}), ${BACKSLASH}, CONCAT(${BACKSLASH}, ${BACKSLASH})), '|', CONCAT(${BACKSLASH}, '|'))`;
}

function quote(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}
