import { duckdbFingerprint, duckdbKey } from './duckdb-fingerprint.ts';
import { postgresFingerprint, postgresKey } from './postgres-fingerprint.ts';
import { mysqlFingerprint, mysqlKey } from './mysql-fingerprint.ts';
import type { FingerprintColumn } from './fingerprint-recipe.ts';

/**
 * Fingerprint recipe v1: the engine's entry points. The recipe (what is hashed, and how each
 * engine computes it) is written down in recipe-v1.md; the implementations give equal results
 * for equal values, which test/diff/fingerprint-v1.test.ts checks.
 */
export { RECIPE_VERSION, type FingerprintColumn } from './fingerprint-recipe.ts';
export { fingerprintRow, keyOfRow, rowFingerprinter } from './row-fingerprint.ts';

export const FINGERPRINT_DIALECTS = ['duckdb', 'postgres', 'mysql'] as const;
export type FingerprintDialect = (typeof FINGERPRINT_DIALECTS)[number];

/**
 * SQL computing the fingerprint of the current row from the mapped input `columns` (model
 * columns with their logical types), for a SELECT list: a UBIGINT in DuckDB, a numeric(20,0)
 * in Postgres, a BIGINT UNSIGNED in MySQL; the same number fingerprintRow gives as decimal text.
 */
export function fingerprintExpression(dialect: FingerprintDialect, signature: string, columns: FingerprintColumn[]): string {
  if (dialect === 'mysql') return mysqlFingerprint(signature, columns);
  return dialect === 'duckdb' ? duckdbFingerprint(signature, columns) : postgresFingerprint(signature, columns);
}

/** SQL computing the row's key from its primary key columns (text; NULL when a part is null), as keyOfRow does. */
export function keyExpression(dialect: FingerprintDialect, columns: FingerprintColumn[]): string {
  if (dialect === 'mysql') return mysqlKey(columns);
  return dialect === 'duckdb' ? duckdbKey(columns) : postgresKey(columns);
}
