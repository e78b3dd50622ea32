import type { Project } from '../config/project.ts';
import type { Destination, FieldSpec } from '../destinations/destination.ts';
import type { Source } from '../sources/source.ts';
import type { StateStore } from '../state/state-store.ts';
import type { Diff } from '../diff/diff.ts';
import { createMapper, type Mapper } from '../mapping/mapper.ts';
import { validateColumns } from '../config/load-project.ts';
import { openDiff } from '../diff/open-diff.ts';
import { openRowState, type RowStateHandle } from './row-state.ts';
import { createDestination, createSource, type ResolvedSync } from './resolve-sync.ts';

export interface DiffOptions {
  fullResync?: boolean;
  retryRejected?: boolean;
  signal: AbortSignal;
  /** Ask the destination for its field types, so the mapper can coerce (runs do; plans need not). */
  describeDestination?: boolean;
  /** The diff may write the state it maintains (a run holding the lock; not plan or a dry run). */
  persist?: boolean;
  /** DuckDB memory cap of the diff's workspace (default: the workspace's own). */
  memoryLimit?: string;
  /** Where the row state lives (openRowState); opened and closed by the session when absent. */
  rowState?: RowStateHandle;
}

/** Steps 1 and 2 of a run, shared by `plan`, `sync --dry-run` and `sync`: the diff, and how to map what it finds. */
export interface DiffSession {
  diff: Diff;
  source: Source;
  destination: Destination;
  mapper: Mapper;
  /** The store the diff read, which the run commits to. */
  state: StateStore;
  /**
   * Lets go of the model once the run has sent its changes, before it folds its state, where the
   * diff can (Diff.releaseModel): a DuckDB file can take a writer again, the run's own sync logs
   * first. It never fails: the run has nothing left to read.
   */
  releaseModel(): Promise<void>;
  close(): Promise<void>;
}

export async function openDiffSession(project: Project, store: StateStore, resolved: ResolvedSync, options: DiffOptions): Promise<DiffSession> {
  const { sync, model } = resolved;
  const source = createSource(project, resolved.sourceConfig);
  const destination = createDestination(project, resolved);
  let diff: Diff | undefined;
  let owned: RowStateHandle | undefined;
  const releaseModel = async () => {
    await diff?.releaseModel?.().catch(() => {});
  };
  const close = async () => {
    await diff?.close();
    await Promise.allSettled([source.close(), destination.close(), owned?.close()]);
  };
  try {
    const rowState = options.rowState ?? (owned = await openRowState(project, store, resolved));
    const since = model.cursor && !options.fullResync ? await store.getCursor(sync.name) : null;
    diff = await openDiff(rowState.method, {
      sync: sync.name, model, source, state: rowState.store, since,
      retryRejected: options.retryRejected ?? false, fullResync: options.fullResync ?? false, persist: options.persist ?? false,
      signal: options.signal, memoryLimit: options.memoryLimit,
      fingerprint: (columns) => {
        validateColumns(project, sync.name, columns);
        // The fingerprint ignores the destination's field types, so `plan` (which does not ask
        // the destination) computes exactly the fingerprints a run does.
        const { signature, columns: inputs } = createMapper(sync, undefined, columns);
        return { signature, columns: inputs };
      },
    });
    const fields: FieldSpec[] | undefined =
      options.describeDestination && destination.describe ? await destination.describe(options.signal) : undefined;
    const mapper = createMapper(sync, fields, diff.columns);
    return { diff, source, destination, mapper, state: rowState.store, releaseModel, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
