import { createHash } from 'node:crypto';
import type { Column, ColumnType } from '../../sources/source.ts';

/**
 * What every implementation of fingerprint recipe v1 shares (the recipe itself is written
 * down in recipe-v1.md): the version, the canonical classes of the logical column types,
 * the field layout and the signature's mask.
 */
export const RECIPE_VERSION = 'v1';

/** A mapped input column: its name and logical type (a decimal's scale picks its SQL). */
export type FingerprintColumn = Pick<Column, 'name' | 'type' | 'precision' | 'scale'>;

/** How a value of each logical type is written in the canonical text (recipe-v1.md, "Fields"). */
export type CanonicalClass = 'number' | 'double' | 'boolean' | 'text' | 'json' | 'date' | 'time' | 'instant' | 'binary';

const CLASSES: Record<ColumnType, CanonicalClass> = {
  integer: 'number', bigint: 'number', decimal: 'number', double: 'double', boolean: 'boolean',
  varchar: 'text', json: 'json', date: 'date', time: 'time', timestamp: 'instant', timestamptz: 'instant', blob: 'binary',
};

export function canonicalClass(type: ColumnType): CanonicalClass {
  return CLASSES[type];
}

/** Fields are joined by `|`; a null field is `\N`; in a value, `\` becomes `\\` and `|` becomes `\|`. */
export const FIELD_SEPARATOR = '|';
export const NULL_FIELD = '\\N';

/** Classes whose canonical text may hold `|` or `\`, so must be escaped; the others never do. */
export function needsEscape(type: ColumnType): boolean {
  const kind = canonicalClass(type);
  return kind === 'text' || kind === 'json';
}

export function escapeField(text: string): string {
  if (!text.includes('\\') && !text.includes('|')) return text;
  return text.replaceAll('\\', '\\\\').replaceAll('|', '\\|');
}

/**
 * The signature enters every fingerprint as a 64-bit mask XORed onto the row's hash: hashing
 * it once per run instead of once per row keeps the per-row MD5 input within one 64-byte block.
 */
export function signatureMask(signature: string): bigint {
  return md5Low64(`lastmile fingerprint ${RECIPE_VERSION}\n${signature}`);
}

/**
 * The first 8 bytes of the MD5 digest of `text` (UTF-8), read as a little-endian unsigned
 * integer: what DuckDB's md5_number gives in its low 64 bits (recipe-v1.md says why).
 */
export function md5Low64(text: string): bigint {
  return createHash('md5').update(text, 'utf8').digest().readBigUInt64LE(0);
}
