import type { ModelConfig, SourceConfig } from '../config/project.ts';

/**
 * Where a sync's diff runs:
 * - workspace: a DuckDB workspace beside the engine reads the model and diffs it against the
 *   engine's state (every source; the default);
 * - warehouse: the source's database fingerprints and diffs, against the sync's state kept in
 *   its `stateSchema`; only the differences leave it (needs a user that may create tables there);
 * - engine: the database only computes each row's (key, fingerprint); those pairs cross, the
 *   diff runs beside the engine, and the changed rows are fetched back by key (read-only access).
 */
export const DIFF_METHODS = ['workspace', 'warehouse', 'engine'] as const;
export type DiffMethod = (typeof DIFF_METHODS)[number];

/** Source types whose database can compute recipe v1 fingerprints itself. */
export const SQL_DIFF_SOURCES = ['postgres', 'mysql', 'snowflake', 'redshift', 'databricks', 'clickhouse'] as const;

/** Of those, the ones that cannot run `diff: warehouse`, and why (said to the user). */
export const NO_WAREHOUSE_DIFF: Partial<Record<string, string>> = {
  clickhouse: 'ClickHouse has no transactions, so the state of a delivered batch could be left half written, ' +
    'and its upserts (ReplacingMergeTree) and deletes (ALTER … DELETE) land when a background merge or mutation runs, ' +
    'so a diff could read a key twice or a removed key still there; use diff: engine (ClickHouse fingerprints, the engine keeps the state)',
};
export const DEFAULT_STATE_SCHEMA = 'lastmile';

/** The model's own `diff`, else its source's, else the workspace. */
export function diffMethodOf(model: ModelConfig, source: SourceConfig): DiffMethod {
  return model.diff ?? (source.diff as DiffMethod | undefined) ?? 'workspace';
}

export function stateSchemaOf(source: SourceConfig): string {
  return (source.stateSchema as string | undefined) ?? DEFAULT_STATE_SCHEMA;
}
