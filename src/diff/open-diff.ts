import type { Diff, DiffRequest } from './diff.ts';
import type { DiffMethod } from './diff-method.ts';
import { openWorkspaceDiff } from './workspace/workspace-diff.ts';
import { openWarehouseDiff } from './warehouse/warehouse-diff.ts';
import { openEngineDiff } from './engine/engine-diff.ts';

/** The diff a sync's config asks for (diff-method.ts); all answer the same questions the same way. */
export function openDiff(method: DiffMethod, request: DiffRequest): Promise<Diff> {
  switch (method) {
    case 'warehouse': return openWarehouseDiff(request);
    case 'engine': return openEngineDiff(request);
    default: return openWorkspaceDiff(request);
  }
}
