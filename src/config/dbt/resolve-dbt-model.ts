import path from 'node:path';
import type { Checker } from '../checker.ts';
import type { ModelConfig } from '../project.ts';
import { ManifestError, readManifest, type Manifest } from './dbt-manifest.ts';
import { findDbtModel } from './dbt-model.ts';

type DbtFields = Pick<ModelConfig, 'table' | 'primaryKey' | 'dbt'>;

/**
 * A `dbt:` model's table, primary key and dbt facts, read from the manifest. Manifests are read
 * once per load (`cache`), however many models name them. A failure is a config error at the model.
 */
export function resolveDbtModel(
  name: string,
  dbt: { manifest: string; name: string },
  primaryKey: string[] | undefined,
  rootDir: string,
  check: Checker,
  cache: Map<string, Manifest | ManifestError>,
): DbtFields | undefined {
  const file = path.resolve(rootDir, dbt.manifest);
  let manifest = cache.get(file);
  if (!manifest) {
    try {
      manifest = readManifest(file, dbt.manifest);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      manifest = error;
    }
    cache.set(file, manifest);
  }
  try {
    if (manifest instanceof ManifestError) throw manifest;
    const model = findDbtModel(manifest, dbt.name, dbt.manifest);
    const suggested = model.uniqueKeys[0];
    if (!primaryKey && !suggested) {
      check.fail(`dbt model "${model.name}" has no unique test to take the primary key from: set primaryKey, or add a \`unique\` test on its key column in dbt`, ['models', name]);
      return undefined;
    }
    return {
      // The source connects to the model's database: schema.alias names it there.
      table: `${model.relation.schema}.${model.relation.identifier}`,
      primaryKey: primaryKey ?? suggested!,
      dbt: { ...model, manifest: file, primaryKeyFromDbt: !primaryKey },
    };
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    check.fail(error.message, ['models', name, 'dbt', error === manifest ? 'manifest' : 'name']);
    return undefined;
  }
}
