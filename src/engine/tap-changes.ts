import type { ChangeRow, Diff, DiffKind } from '../diff/diff.ts';

/**
 * The same diff, with each chunk of its changes passed through `tap` first (to look at the rows,
 * or keep some back). Everything else is the diff's own answer.
 */
export function tapChanges(diff: Diff, tap: (chunk: ChangeRow[]) => ChangeRow[] | Promise<ChangeRow[]>): Diff {
  return {
    get counts() { return diff.counts; },
    get incremental() { return diff.incremental; },
    get highWaterMark() { return diff.highWaterMark; },
    get columns() { return diff.columns; },
    get method() { return diff.method; },
    invalidKeys: (signal) => diff.invalidKeys(signal),
    newest: (column, signal) => diff.newest(column, signal),
    sample: (perKind, signal) => diff.sample(perKind, signal),
    async *changes(kinds: DiffKind[], options) {
      for await (const chunk of diff.changes(kinds, options)) {
        const kept = await tap(chunk);
        if (kept.length) yield kept;
      }
    },
    ...(diff.releaseModel ? { releaseModel: () => diff.releaseModel!() } : {}),
    close: () => diff.close(),
  };
}
