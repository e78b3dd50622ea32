import type { Change } from '../destinations/destination.ts';

/**
 * Turns chunks of any size into batches of exactly `size` (the last one may be smaller).
 * It pulls a chunk only when a batch is asked for, so memory holds at most one batch
 * plus one chunk, whatever the number of changes.
 */
export async function* rebatch(chunks: AsyncIterable<Change[]>, size: number): AsyncGenerator<Change[], void, undefined> {
  let pending: Change[] = [];
  for await (const chunk of chunks) {
    let at = 0;
    if (pending.length > 0) {
      at = Math.min(chunk.length, size - pending.length);
      pending = pending.concat(chunk.slice(0, at));
      if (pending.length < size) continue;
      yield pending;
      pending = [];
    }
    for (; at + size <= chunk.length; at += size) yield at === 0 && chunk.length === size ? chunk : chunk.slice(at, at + size);
    if (at < chunk.length) pending = chunk.slice(at);
  }
  if (pending.length > 0) yield pending;
}
