import type { Project } from '../config/project.ts';

/**
 * What dbt says it rebuilt, as the trigger accepts it: dbt's own `run_results.json`
 * (`{ results: [{ unique_id, status }] }`, only `success` counts), or `{ models: [...] }` listing
 * unique_ids (`model.shop.orders`) or names (`orders`).
 */
export interface DbtTriggerBody {
  results?: { unique_id?: unknown; status?: unknown }[];
  models?: string[];
}

/** The unique_ids and names dbt rebuilt. */
export function rebuiltModels(body: DbtTriggerBody): Set<string> {
  const rebuilt = new Set<string>();
  for (const result of body.results ?? []) {
    // "success" for models, seeds and snapshots; error, skipped, pass/fail (tests) rebuilt nothing.
    if (result?.status === 'success' && typeof result.unique_id === 'string') rebuilt.add(result.unique_id);
  }
  for (const model of body.models ?? []) rebuilt.add(model);
  return rebuilt;
}

/** The syncs whose model is a dbt model in `rebuilt`, by unique_id, package.name or name. */
export function syncsOfRebuilt(project: Project, rebuilt: Set<string>): string[] {
  return Object.values(project.syncs)
    .filter((sync) => {
      const dbt = project.models[sync.model]?.dbt;
      if (!dbt) return false;
      const packageName = dbt.uniqueId.split('.')[1];
      return rebuilt.has(dbt.uniqueId) || rebuilt.has(dbt.name) || rebuilt.has(`${packageName}.${dbt.name}`);
    })
    .map((sync) => sync.name);
}
