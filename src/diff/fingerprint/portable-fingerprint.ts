import { signatureMask, type FingerprintColumn } from './fingerprint-recipe.ts';

/**
 * Pieces of recipe v1 (recipe-v1.md) for engines with no unsigned 64-bit integer or no XOR
 * (Redshift, Databricks, ClickHouse), written only with string functions, `+ - *` and `&` on
 * 32-bit values, and with no backslash or quote inside a literal: those are written by code
 * point, since each engine reads escapes in literals its own way.
 */
export interface PortableSql {
  /** `text` from its 1-based character `start`, `length` characters. */
  substring(text: string, start: number, length: number): string;
  /** An 8-digit lowercase hex text as a BIGINT. */
  hex32(hex: string): string;
  /** The character of a code point below 128. */
  char(code: number): string;
  /** Every `from` in `text` replaced by `to`. */
  replace(text: string, from: string, to: string): string;
}

/** What the text pieces need: characters by code point, and replace. */
export type TextSql = Pick<PortableSql, 'char' | 'replace'>;

const BACKSLASH = 92;
const QUOTE = 39;
const DOUBLE_QUOTE = 34;

/**
 * The fingerprint from the MD5 digest as 32 lowercase hex digits: its first 8 bytes read
 * little-endian, in two 32-bit halves, each XORed with its half of the mask as
 * `v + m - 2 * (v & m)`, joined as a DECIMAL(20,0).
 */
export function fingerprintFromMd5Hex(signature: string, md5Hex: string, sql: PortableSql): string {
  const mask = signatureMask(signature);
  const byte = (i: number) => sql.substring(md5Hex, 2 * i + 1, 2);
  const half = (bytes: number[]) => sql.hex32(bytes.map(byte).join(' || '));
  const xor = (value: string, m: bigint) => `(${value} + ${m} - 2 * (${value} & ${m}))`;
  const low = xor(half([3, 2, 1, 0]), mask & 0xffffffffn);
  const high = xor(half([7, 6, 5, 4]), mask >> 32n);
  return `(CAST(${high} AS DECIMAL(20,0)) * 4294967296 + ${low})`;
}

/** A field of text: `\` → `\\`, `|` → `\|`. */
export function escapedField(text: string, sql: TextSql): string {
  const backslash = sql.char(BACKSLASH);
  return sql.replace(sql.replace(text, backslash, `${backslash} || ${backslash}`), `'|'`, `${backslash} || '|'`);
}

/** The null field `\N`. */
export function nullField(sql: TextSql): string {
  return `(${sql.char(BACKSLASH)} || 'N')`;
}

/**
 * A composite key: the parts (texts, none null) as a JSON array of strings. Backslashes and
 * double quotes are escaped as JSON.stringify escapes them; so are tab, newline and carriage
 * return. Other control characters are not (keys rarely hold them): such a key differs from
 * the one the other engines write.
 */
export function jsonArrayKey(parts: string[], sql: TextSql): string {
  const backslash = sql.char(BACKSLASH);
  const controls: [number, string][] = [[9, 't'], [10, 'n'], [13, 'r']];
  const escape = (part: string) => controls.reduce(
    (text, [code, letter]) => sql.replace(text, sql.char(code), `${backslash} || '${letter}'`),
    sql.replace(sql.replace(part, backslash, `${backslash} || ${backslash}`), sql.char(DOUBLE_QUOTE), `${backslash} || ${sql.char(DOUBLE_QUOTE)}`),
  );
  const quote = sql.char(DOUBLE_QUOTE);
  return `'[' || ${parts.map((part) => `${quote} || ${escape(part)} || ${quote}`).join(` || ',' || `)} || ']'`;
}

/** The fields of a row, each already canonical text, joined as recipe v1 joins them (`''` for none). */
export function joinedFields(fields: string[]): string {
  return fields.length === 0 ? `''` : fields.join(` || '|' || `);
}

/** The row's key: one column's canonical text (`keyPart`), or a JSON array of them; NULL when a part is null. */
export function portableKey(columns: FingerprintColumn[], keyPart: (column: FingerprintColumn) => string, quote: (name: string) => string, sql: TextSql): string {
  if (columns.length === 1) return keyPart(columns[0]!);
  const anyNull = columns.map((column) => `${quote(column.name)} IS NULL`).join(' OR ');
  return `CASE WHEN ${anyNull} THEN NULL ELSE ${jsonArrayKey(columns.map(keyPart), sql)} END`;
}

/** A string literal with every `'` and `\` written by code point: `'it' || CHR(39) || 's'`. */
export function codePointLiteral(text: string, char: (code: number) => string): string {
  const parts = text.split(/(['\\])/);
  const sql = parts.filter((part, i) => i % 2 === 1 || part !== '' || parts.length === 1)
    .map((part) => (part === "'" ? char(QUOTE) : part === '\\' ? char(BACKSLASH) : `'${part}'`));
  return sql.length === 1 ? sql[0]! : `(${sql.join(' || ')})`;
}
