import type { SyncMode } from '../config/project.ts';
import type { Operation } from '../destinations/destination.ts';

export type DiffKind = 'added' | 'changed' | 'removed';

/**
 * What each sync mode sends for each kind of difference. A kind a mode leaves out is
 * counted but not sent, and its state is left alone.
 */
export const MODE_OPERATIONS: Record<SyncMode, Partial<Record<DiffKind, Operation>>> = {
  upsert: { added: 'upsert', changed: 'upsert' },
  insert: { added: 'insert' },
  update: { added: 'update', changed: 'update' },
  mirror: { added: 'upsert', changed: 'upsert', removed: 'delete' },
};

export function operationsOf(mode: SyncMode): Operation[] {
  return [...new Set(Object.values(MODE_OPERATIONS[mode]))];
}

export function changeKindsOf(mode: SyncMode): DiffKind[] {
  return Object.keys(MODE_OPERATIONS[mode]) as DiffKind[];
}

export function modeLabel(mode: SyncMode, incremental: boolean, fullResync: boolean): string {
  const name = { upsert: 'Upsert', insert: 'Insert', update: 'Update', mirror: 'Mirror' }[mode];
  // Every run sends only what changed; a cursor also reads only what changed.
  return `${fullResync ? 'Full resync' : incremental ? 'Incremental by cursor' : 'Incremental'} (${name})`;
}
