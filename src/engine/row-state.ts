import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import { diffMethodOf, stateSchemaOf, type DiffMethod } from '../diff/diff-method.ts';
import { isWarehouseSource } from '../diff/warehouse/warehouse-session.ts';
import { WarehouseRowState } from '../diff/warehouse/warehouse-row-state.ts';
import { ConfigError } from '../errors.ts';
import { createSource, type ResolvedSync } from './resolve-sync.ts';

/** Where a sync's row state lives for this run, and which diff reads it. */
export interface RowStateHandle {
  method: DiffMethod;
  /** The store the diff reads and the run commits to: the engine's own, or one keeping row state in the warehouse. */
  store: StateStore;
  close(): Promise<void>;
}

/**
 * `diff: warehouse` keeps the row state in the source's database (its stateSchema), so the run's
 * commits land where the diff reads them; every other diff uses the engine's store as it is.
 */
export async function openRowState(project: Project, store: StateStore, resolved: ResolvedSync): Promise<RowStateHandle> {
  const method = diffMethodOf(resolved.model, resolved.sourceConfig);
  if (method !== 'warehouse') return { method, store, close: async () => undefined };
  const source = createSource(project, resolved.sourceConfig);
  if (!isWarehouseSource(source)) {
    await source.close();
    throw new ConfigError(`model "${resolved.model.name}": diff: warehouse needs a source that keeps the sync state in its database; source "${source.name}" is ${source.type}`, resolved.model.location);
  }
  try {
    const rowState = await WarehouseRowState.open(source.openSession(), stateSchemaOf(resolved.sourceConfig), store);
    return { method, store: rowState, close: async () => { await rowState.close(); await source.close(); } };
  } catch (error) {
    await source.close();
    throw error;
  }
}
