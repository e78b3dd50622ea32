import type { Project } from '../config/project.ts';
import type { Destination, FieldSpec } from '../destinations/destination.ts';
import type { Source, Value } from '../sources/source.ts';
import type { StateStore } from '../state/state-store.ts';
import { createMapper, type Mapper } from '../mapping/mapper.ts';
import { validateColumns } from '../config/load-project.ts';
import { computeDiff, type DiffCounts, type DiffInput } from '../diff/compute-diff.ts';
import { RunError } from '../errors.ts';
import { createDestination, createSource, type ResolvedSync } from './resolve-sync.ts';
import { readModel } from './read-model.ts';
import { openWorkspace, type Workspace } from './workspace.ts';

export const PREVIOUS_STATE = 'lastmile_previous';

export interface DiffOptions {
  fullResync?: boolean;
  retryRejected?: boolean;
  signal: AbortSignal;
  /** Ask the destination for its field types, so the mapper can coerce (runs do; plans need not). */
  describeDestination?: boolean;
  trace?(step: 1 | 2, text: string): void;
}

/** Steps 1 and 2 of a run, shared by `plan`, `sync --dry-run` and `sync`. */
export interface DiffSession {
  workspace: Workspace;
  source: Source;
  destination: Destination;
  mapper: Mapper;
  primaryKey: string[];
  counts: DiffCounts;
  /** How the model was fingerprinted: the delivery step reads the differences' columns with it. */
  diffInput: DiffInput;
  /** Cursor mode: only rows past the high-water mark were read; removals are not detected. */
  incremental: boolean;
  /** Largest cursor value read (to store when the run succeeds). */
  highWaterMark: Value | null;
  close(): Promise<void>;
}

export async function openDiffSession(
  project: Project,
  store: StateStore,
  resolved: ResolvedSync,
  options: DiffOptions,
): Promise<DiffSession> {
  const { sync, model } = resolved;
  const workspace = await openWorkspace();
  const source = createSource(project, resolved.sourceConfig);
  const destination = createDestination(project, resolved);
  const close = async () => {
    await Promise.allSettled([source.close(), destination.close()]);
    await workspace.close();
  };
  try {
    const since = model.cursor && !options.fullResync ? await store.getCursor(sync.name) : null;
    const relation = await readModel(workspace, source, model, since, options.signal).catch((error: unknown) => {
      throw new RunError(`source "${source.name}" failed while reading model "${model.name}": ${messageOf(error)}`, { cause: error });
    });
    validateColumns(project, sync.name, relation.columns);

    const fields: FieldSpec[] | undefined =
      options.describeDestination && destination.describe ? await destination.describe(options.signal) : undefined;
    const mapper = createMapper(sync, fields, relation.columns);
    // The fingerprint ignores the destination's field types, so `plan` (which does not ask
    // the destination) computes exactly the fingerprints a run does.
    const fingerprintMapper = fields ? createMapper(sync, undefined, relation.columns) : mapper;

    await store.exposeRowState(sync.name, workspace.connection, PREVIOUS_STATE);
    const diffInput: DiffInput = {
      modelSql: relation.sql,
      modelParams: relation.params,
      primaryKey: model.primaryKey,
      signature: fingerprintMapper.signature,
      columns: fingerprintMapper.columns,
      previous: PREVIOUS_STATE,
      incremental: since !== null,
      retryRejected: options.retryRejected ?? false,
      fullResync: options.fullResync ?? false,
      cursor: model.cursor,
    };
    const { counts, highWaterMark } = await computeDiff(workspace, diffInput);
    return {
      workspace, source, destination, mapper, primaryKey: model.primaryKey, counts, diffInput,
      incremental: since !== null, highWaterMark: highWaterMark ?? since, close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
