import type { ModelConfig } from '../project.ts';

/**
 * What `check` says of a dbt model's primary key: dbt asserts no key unique (duplicates would
 * reach the destination as one record flapping), or the configured key is not the one dbt tests.
 */
export function dbtKeyWarnings(model: ModelConfig): string[] {
  const dbt = model.dbt;
  if (!dbt) return [];
  const key = model.primaryKey.join(', ');
  if (dbt.uniqueKeys.length === 0) {
    return [`model ${model.name}: dbt model ${dbt.name} has no unique test, so nothing checks that primaryKey (${key}) identifies one row; add \`tests: [unique]\` to that column in dbt`];
  }
  const tested = dbt.uniqueKeys.some((unique) => unique.length === model.primaryKey.length && unique.every((c) => model.primaryKey.includes(c)));
  if (tested) return [];
  const known = dbt.uniqueKeys.map((unique) => unique.join(' + ')).join('; ');
  return [`model ${model.name}: primaryKey (${key}) is not what dbt tests unique on ${dbt.name} (${known}); rows sharing a key would overwrite each other`];
}
