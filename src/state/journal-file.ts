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
    private nextSeq: number,
    private readonly durable: boolean,
  ) {}

  static async open(path: string, options: { durable: boolean }): Promise<JournalFile> {
    const handle = await fs.open(path, 'a+');
    try {
      const lastSeq = await repairTail(handle);
      return new JournalFile(path, handle, lastSeq + 1, options.durable);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async append(updates: RowStateUpdate[]): Promise<void> {
    if (!updates.length) return;
    const text = journalLines(updates, this.nextSeq);
    await this.handle.write(text);
    this.nextSeq += updates.length;
    if (this.durable) await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Cuts an unterminated last line and answers the sequence number of the last complete one (0 if none). */
async function repairTail(handle: fs.FileHandle): Promise<number> {
  const { size } = await handle.stat();
  if (size === 0) return 0;
  let window = Math.min(size, TAIL_WINDOW);
  for (;;) {
    const buffer = Buffer.alloc(window);
    await handle.read(buffer, 0, window, size - window);
    const lastNewline = buffer.lastIndexOf(0x0a);
    if (lastNewline === -1 && window < size) { window = Math.min(size, window * 4); continue; }
    const completeEnd = size - window + lastNewline + 1;
    if (completeEnd < size) {
      await handle.truncate(completeEnd);
      await handle.datasync();
    }
    const lines = buffer.subarray(0, lastNewline + 1).toString('utf8').split('\n');
    // The first line of a partial window may be cut: only trust it when the window is the whole file.
    const from = window === size ? 0 : 1;
    for (let i = lines.length - 1; i >= from; i--) {
      const seq = seqOf(lines[i]);
      if (seq !== undefined) return seq;
    }
    if (window === size) return 0;
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
