import { editDistance } from '../issue-messages.ts';
import { ManifestError, modelNodes, type Manifest, type ManifestNode } from './dbt-manifest.ts';

/** What a Lastmile model takes from a dbt model: where it lives, what it holds, what identifies a row. */
export interface DbtModel {
  uniqueId: string;
  name: string;
  /** As dbt renders it: `"analytics"."marts"."orders"`. */
  relationName: string;
  relation: { database?: string; schema: string; identifier: string };
  description?: string;
  /** Documented columns, in the manifest's order. */
  columns: { name: string; description?: string; dataType?: string }[];
  /**
   * Column sets dbt asserts unique: a `unique` test on a column, `unique_combination_of_columns`
   * (dbt_utils), or a `primary_key` constraint. The first one is the suggested primary key.
   */
  uniqueKeys: string[][];
}

/** The model `name` (a model name, `package.name`, or a unique_id) in `manifest`. */
export function findDbtModel(manifest: Manifest, name: string, shown: string): DbtModel {
  const models = modelNodes(manifest);
  const matches = models.filter((node) => node.unique_id === name || node.name === name || `${node.package_name}.${node.name}` === name);
  if (matches.length > 1) {
    throw new ManifestError(`dbt model "${name}" is ambiguous in ${shown}: ${matches.map((node) => node.unique_id).join(', ')}; write it as package.name`);
  }
  const node = matches[0];
  if (!node) throw new ManifestError(unknownModel(models, name, shown));
  return toDbtModel(manifest, node);
}

function toDbtModel(manifest: Manifest, node: ManifestNode): DbtModel {
  const identifier = node.alias || node.name;
  const schema = node.schema ?? '';
  const database = node.database ?? undefined;
  return {
    uniqueId: node.unique_id,
    name: node.name,
    relationName: node.relation_name ?? [database, schema, identifier].filter(Boolean).map((part) => `"${part}"`).join('.'),
    relation: { ...(database ? { database } : {}), schema, identifier },
    ...(node.description ? { description: node.description } : {}),
    columns: Object.values(node.columns ?? {}).map((column) => ({
      name: column.name,
      ...(column.description ? { description: column.description } : {}),
      ...(column.data_type ? { dataType: column.data_type } : {}),
    })),
    uniqueKeys: uniqueKeys(manifest, node),
  };
}

/** Unique column sets: constraints first (the model's own word), then tests, single columns before combinations. */
function uniqueKeys(manifest: Manifest, model: ManifestNode): string[][] {
  const keys: string[][] = [];
  const add = (columns: unknown) => {
    if (!Array.isArray(columns) || columns.length === 0 || !columns.every((c) => typeof c === 'string')) return;
    if (!keys.some((key) => key.join('\0') === columns.join('\0'))) keys.push(columns as string[]);
  };
  for (const constraint of model.constraints ?? []) if (constraint.type === 'primary_key') add(constraint.columns);
  for (const column of Object.values(model.columns ?? {})) {
    if (column.constraints?.some((c) => c.type === 'primary_key')) add([column.name]);
  }
  const tests = Object.values(manifest.nodes).filter((node) => node?.resource_type === 'test' && testedModel(node) === model.unique_id);
  for (const test of tests) {
    if (test.test_metadata?.name !== 'unique') continue;
    const column = test.column_name ?? test.test_metadata.kwargs?.column_name;
    if (typeof column === 'string') add([column]);
  }
  for (const test of tests) {
    if (test.test_metadata?.name === 'unique_combination_of_columns') add(test.test_metadata.kwargs?.combination_of_columns);
  }
  return keys;
}

/** The model a test is attached to: `attached_node` (dbt ≥ 1.5), else its only model dependency. */
function testedModel(test: ManifestNode): string | undefined {
  if (test.attached_node) return test.attached_node;
  const models = (test.depends_on?.nodes ?? []).filter((id) => id.startsWith('model.'));
  return models.length === 1 ? models[0] : undefined;
}

function unknownModel(models: ManifestNode[], name: string, shown: string): string {
  const names = [...new Set(models.map((node) => node.name))].sort();
  if (names.length === 0) return `dbt manifest ${shown} has no models`;
  const close = names
    .map((candidate) => ({ candidate, distance: editDistance(candidate.toLowerCase(), name.toLowerCase()) }))
    .filter(({ candidate, distance }) => distance <= Math.max(2, Math.floor(name.length / 3)) || candidate.includes(name) || name.includes(candidate))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 5)
    .map(({ candidate }) => candidate);
  const hint = close.length ? `did you mean ${close.map((c) => `"${c}"`).join(', ')}?` : `its models are ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}`;
  return `dbt model "${name}" is not in ${shown}: ${hint}`;
}
