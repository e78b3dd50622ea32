import type { Change } from '../destinations/destination.ts';

/**
 * Turns chunks of any size into batches of exactly `size` (the last one may be smaller).
 * `size` may be a function, read for every batch: a delivery shrinks its batches when the
 * destination refuses whole ones. It pulls a chunk only when a batch is asked for, so memory
 * holds at most one batch plus one chunk, whatever the number of changes.
 */
export async function* rebatch<C extends Change>(chunks: AsyncIterable<C[]>, size: number | (() => number)): AsyncGenerator<C[], void, undefined> {
  const sizeNow = typeof size === 'number' ? () => size : size;
  let pending: C[] = [];
  for await (const chunk of chunks) {
    let at = 0;
    let n = sizeNow();
    if (pending.length > 0) {
      at = Math.max(0, Math.min(chunk.length, n - pending.length)); // the size may have shrunk since
      pending = pending.concat(chunk.slice(0, at));
      if (pending.length < n) continue;
      yield pending;
      pending = [];
      n = sizeNow();
    }
    for (; at + n <= chunk.length; at += n, n = sizeNow()) yield at === 0 && chunk.length === n ? chunk : chunk.slice(at, at + n);
    if (at < chunk.length) pending = chunk.slice(at);
  }
  if (pending.length > 0) yield pending;
}
