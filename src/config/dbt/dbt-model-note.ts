import type { ModelConfig } from '../project.ts';

/** What `check` says a dbt model resolved to: the relation read, where the key came from, the documented columns. */
export function dbtModelNote(model: ModelConfig): string[] {
  const dbt = model.dbt;
  if (!dbt) return [];
  const key = `primaryKey ${model.primaryKey.join(', ')}${dbt.primaryKeyFromDbt ? ' (from its unique test)' : ''}`;
  const columns = dbt.columns.length ? `${dbt.columns.length} documented columns (${dbt.columns.map((c) => c.name).join(', ')})` : 'no documented columns';
  return [`model ${model.name}: dbt ${dbt.uniqueId} reads ${model.table} (dbt: ${dbt.relationName}); ${key}; ${columns}`];
}
