import type { Change } from '../destinations/destination.ts';

/**
 * Turns chunks of any size into batches of exactly `size` (the last one may be smaller).
 * It pulls a chunk only when a batch is asked for, so memory holds at most one batch
 * plus one chunk, whatever the number of changes.
 */
export async function* rebatch(chunks: AsyncIterable<Change[]>, size: number): AsyncGenerator<Change[], void, undefined> {
  let buffer: Change[] = [];
  for await (const chunk of chunks) {
    if (buffer.length === 0 && chunk.length === size) {
      yield chunk;
      continue;
    }
    buffer = buffer.length === 0 ? chunk.slice() : buffer.concat(chunk);
    while (buffer.length >= size) {
      const batch = buffer.slice(0, size);
      buffer = buffer.slice(size);
      yield batch;
    }
  }
  if (buffer.length > 0) yield buffer;
}
