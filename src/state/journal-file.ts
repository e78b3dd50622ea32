import fs from 'node:fs/promises';
import type { RowStateUpdate } from './state-store.ts';
import { journalLines } from './row-state-sql.ts';

const TAIL_WINDOW = 1 << 20;

/**
 * An append-only NDJSON journal of row state updates. Each append is one write() followed,
 * when durable, by fdatasync: once append() resolves the lines survive kill -9 and power loss.
 * Opening repairs a torn last line (a crash mid-append) so the next append starts on a
 * line of its own, and continues the sequence numbers that order the entries.
 * Not safe for concurrent appends: callers serialise them (see CommitQueue).
 */
export class JournalFile {
  private constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
    private seq: number,
    private readonly durable: boolean,
  ) {}

  static async open(path: string, options: { durable: boolean }): Promise<JournalFile> {
    const handle = await fs.open(path, 'a+');
    try {
      const { size } = await handle.stat();
      const tail = await scanTail(handle, size);
      if (tail.completeEnd < size) {
        await handle.truncate(tail.completeEnd);
        await handle.datasync();
      }
      return new JournalFile(path, handle, tail.lastSeq, options.durable);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Sequence number of the last appended entry (0 when empty). */
  get lastSeq(): number {
    return this.seq;
  }

  async append(updates: RowStateUpdate[]): Promise<void> {
    if (!updates.length) return;
    const text = journalLines(updates, this.seq + 1);
    await this.handle.write(text);
    this.seq += updates.length;
    if (this.durable) await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/**
 * Sequence number of a journal's last complete entry, without changing the file (a reader
 * must never cut a line a writer in another process is still appending). 0 when none.
 */
export async function readLastSeq(path: string): Promise<number> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  try {
    return (await scanTail(handle, (await handle.stat()).size)).lastSeq;
  } finally {
    await handle.close();
  }
}

/** Where the last complete line ends, and the sequence number of the last entry that parses. */
async function scanTail(handle: fs.FileHandle, size: number): Promise<{ completeEnd: number; lastSeq: number }> {
  if (size === 0) return { completeEnd: 0, lastSeq: 0 };
  let window = Math.min(size, TAIL_WINDOW);
  for (;;) {
    const buffer = Buffer.alloc(window);
    await handle.read(buffer, 0, window, size - window);
    const lastNewline = buffer.lastIndexOf(0x0a);
    if (lastNewline === -1 && window < size) { window = Math.min(size, window * 4); continue; }
    const completeEnd = size - window + lastNewline + 1;
    const lines = buffer.subarray(0, lastNewline + 1).toString('utf8').split('\n');
    // The first line of a partial window may be cut: only trust it when the window is the whole file.
    const from = window === size ? 0 : 1;
    for (let i = lines.length - 1; i >= from; i--) {
      const seq = seqOf(lines[i]);
      if (seq !== undefined) return { completeEnd, lastSeq: seq };
    }
    if (window === size) return { completeEnd, lastSeq: 0 };
    window = Math.min(size, window * 4);
  }
}

function seqOf(line: string): number | undefined {
  if (!line) return undefined;
  try {
    const s = (JSON.parse(line) as { s?: unknown }).s;
    return typeof s === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}
