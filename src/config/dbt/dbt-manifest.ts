import { readFileSync } from 'node:fs';

/**
 * The parts of dbt's `target/manifest.json` a model needs (documented schema, v10–v12):
 * `nodes` keyed by unique_id (`model.shop.orders`, `test.shop.unique_orders_id.1a2b`…),
 * each model with database, schema, alias, relation_name and `columns`; each generic test
 * with `test_metadata.name` (`unique`, `not_null`, `dbt_utils.unique_combination_of_columns`…),
 * its `column_name`, and the model it tests in `attached_node` (dbt ≥ 1.5) or `depends_on.nodes`.
 */
export interface ManifestNode {
  unique_id: string;
  resource_type: string;
  name: string;
  package_name?: string;
  database?: string | null;
  schema?: string;
  alias?: string | null;
  relation_name?: string | null;
  description?: string;
  columns?: Record<string, { name: string; description?: string; data_type?: string | null; constraints?: { type: string }[] }>;
  constraints?: { type: string; columns?: string[] }[];
  test_metadata?: { name: string; namespace?: string | null; kwargs?: Record<string, unknown> };
  column_name?: string | null;
  attached_node?: string | null;
  depends_on?: { nodes?: string[] };
}

export interface Manifest {
  nodes: Record<string, ManifestNode>;
  sources?: Record<string, ManifestNode>;
}

/** Why a manifest could not be read, said so a user knows what to run. */
export class ManifestError extends Error {}

/** Reads and shape-checks a manifest; `shown` is the path as the user wrote it. */
export function readManifest(file: string, shown: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new ManifestError(missing
      ? `dbt manifest ${shown} does not exist (looked at ${file}); run \`dbt compile\` (or dbt run/build) in the dbt project to write it, or fix the path`
      : `cannot read dbt manifest ${shown}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`dbt manifest ${shown} is not valid JSON (${(error as Error).message}); run \`dbt compile\` again to rewrite it`);
  }
  const nodes = (data as { nodes?: unknown } | null)?.nodes;
  if (typeof nodes !== 'object' || nodes === null || Array.isArray(nodes)) {
    throw new ManifestError(`dbt manifest ${shown} has no "nodes": is it dbt's target/manifest.json?`);
  }
  return data as Manifest;
}

/** The model nodes, for lookups by name or unique_id. */
export function modelNodes(manifest: Manifest): ManifestNode[] {
  return Object.values(manifest.nodes).filter((node) => node?.resource_type === 'model');
}
