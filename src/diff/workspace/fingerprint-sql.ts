import { duckString, quoteDuck } from './workspace.ts';

/**
 * The row key as text: the primary key column cast to VARCHAR, or for a composite key a JSON
 * array of the parts (`["acme","2024-01-01"]`). A key with any null part is null (invalid).
 */
export function keySql(primaryKey: string[]): string {
  if (primaryKey.length === 1) return `CAST(${quoteDuck(primaryKey[0])} AS VARCHAR)`;
  const parts = primaryKey.map((column) => `CAST(${quoteDuck(column)} AS VARCHAR)`);
  const anyNull = primaryKey.map((column) => `${quoteDuck(column)} IS NULL`).join(' OR ');
  return `CASE WHEN ${anyNull} THEN NULL ELSE CAST(to_json([${parts.join(', ')}]) AS VARCHAR) END`;
}

/**
 * Fingerprint of the mapped payload, computed in DuckDB: a hash of the mapping's signature
 * and the model columns the mapping reads. A change to an unmapped column leaves it equal;
 * a change to the mapping changes every fingerprint it touches.
 */
export function fingerprintSql(signature: string, columns: string[]): string {
  const inputs = [duckString(signature), ...columns.map(quoteDuck)];
  // hash() of a long argument list would mix nulls and positions well, but a column count
  // of zero must still hash something stable.
  return `hash(${inputs.join(', ')})`;
}
