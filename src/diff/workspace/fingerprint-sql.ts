import type { Column } from '../../sources/source.ts';
import { fingerprintExpression, keyExpression } from '../fingerprint/fingerprint-v1.ts';
import { duckString, quoteDuck } from './workspace.ts';

/**
 * The fingerprints a workspace diff computes, over the model's columns:
 * - the key and the fingerprint of recipe v1 (src/diff/fingerprint/recipe-v1.md), what state
 *   stores and any engine can compute;
 * - a local fingerprint, DuckDB's hash() of the same inputs: several times cheaper than v1's MD5,
 *   but DuckDB's alone (and not promised across its versions). State keeps it beside `fp`, and a
 *   row whose local fingerprint matches is unchanged without computing v1; only the others are
 *   fingerprinted with v1 (see compute-diff.ts).
 */
export interface FingerprintPlan {
  signature: string;
  /** Mapped input columns, sorted by name, with their logical types. */
  columns: Column[];
  primaryKey: Column[];
}

export function keySql(plan: FingerprintPlan): string {
  return keyExpression('duckdb', plan.primaryKey);
}

export function fingerprintSql(plan: FingerprintPlan): string {
  return fingerprintExpression('duckdb', plan.signature, plan.columns);
}

/** hash() of the signature and the columns: what releases before recipe v1 stored as `fp`. */
export function localFingerprintSql(plan: Pick<FingerprintPlan, 'signature' | 'columns'>): string {
  return `hash(${[duckString(plan.signature), ...plan.columns.map((c) => quoteDuck(c.name))].join(', ')})`;
}

/**
 * The key as releases before recipe v1 wrote it: the column cast to VARCHAR, or for a composite
 * key a JSON array of the casts. Only the upgrade of such a state uses it (workspace-upgrade.ts).
 */
export function legacyKeySql(primaryKey: string[]): string {
  if (primaryKey.length === 1) return `CAST(${quoteDuck(primaryKey[0])} AS VARCHAR)`;
  const parts = primaryKey.map((column) => `CAST(${quoteDuck(column)} AS VARCHAR)`);
  const anyNull = primaryKey.map((column) => `${quoteDuck(column)} IS NULL`).join(' OR ');
  return `CASE WHEN ${anyNull} THEN NULL ELSE CAST(to_json([${parts.join(', ')}]) AS VARCHAR) END`;
}
