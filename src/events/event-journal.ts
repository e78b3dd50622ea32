import fs from 'node:fs/promises';
import path from 'node:path';
import { CommitQueue } from '../state/commit-queue.ts';

/** An event as accepted: its id, key, when it arrived, and the row as it came (JSON). */
export interface AcceptedEvent {
  id: string;
  key: string;
  acceptedAt: number;
  row: Record<string, unknown>;
}

/** How an event ended, as the journal keeps it (the order value only when the sync orders by one). */
export interface SettledEvent {
  id: string;
  key: string;
  status: EventStatus;
  reason?: string;
  category?: string;
  settledAt: number;
  order?: unknown;
}

export const EVENT_STATUSES = ['delivered', 'unchanged', 'superseded', 'rejected'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

type Line =
  | { a: string; k: string; t: number; r: Record<string, unknown> }
  | { s: string; k: string; o: EventStatus; t: number; why?: string; c?: string; v?: unknown }
  | { m: string; v: unknown };

export interface JournalContents {
  /** Accepted and not settled: what a restart must deliver again. */
  pending: AcceptedEvent[];
  /** Settled since the last compaction, oldest first. */
  settled: SettledEvent[];
  /** Per key, the order value of the newest value delivered (syncs with `orderBy`). */
  marks: Map<string, unknown>;
}

/** Rewrite the journal once it has grown this much since it was last rewritten. */
const COMPACT_BYTES = 32 << 20;

/**
 * A sync's event journal: NDJSON lines of accepted and settled events, one file per sync.
 * Appends are grouped (one write and one fdatasync for every append waiting), and resolve only
 * once on disk, so an accepted event survives kill -9. Opening reads it back: accepted events
 * with no settled line are delivered again. It is rewritten, with only what is still pending
 * and the order marks, when it grows.
 */
export class EventJournal {
  private readonly queue: CommitQueue<string>;
  private written = 0;

  private constructor(readonly path: string, private handle: fs.FileHandle) {
    this.queue = new CommitQueue<string>(async (lines) => {
      const text = lines.join('');
      await this.handle.write(text);
      await this.handle.datasync();
      this.written += Buffer.byteLength(text);
    });
  }

  static async open(file: string): Promise<{ journal: EventJournal; contents: JournalContents }> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const contents = await readJournal(file);
    // Start from a compact file: a torn last line (a crash mid-append) is dropped with the rest.
    await writeCompact(file, contents.pending, contents.marks);
    const handle = await fs.open(file, 'a');
    return { journal: new EventJournal(file, handle), contents };
  }

  /** Resolves once the events are on disk. */
  accept(events: AcceptedEvent[]): Promise<void> {
    return this.queue.commit(events.map((e) => JSON.stringify({ a: e.id, k: e.key, t: e.acceptedAt, r: e.row }) + '\n'));
  }

  settle(events: SettledEvent[]): Promise<void> {
    return this.queue.commit(events.map((e) => JSON.stringify({
      s: e.id, k: e.key, o: e.status, t: e.settledAt,
      ...(e.reason !== undefined && { why: e.reason }), ...(e.category !== undefined && { c: e.category }), ...(e.order !== undefined && { v: e.order }),
    }) + '\n'));
  }

  get needsCompaction(): boolean {
    return this.written > COMPACT_BYTES;
  }

  /** Rewrites the file with `snapshot()`'s events and marks, after every append queued so far and before any later one. */
  compact(snapshot: () => { pending: AcceptedEvent[]; marks: Map<string, unknown> }): Promise<void> {
    return this.queue.exclusive(async () => {
      const { pending, marks } = snapshot();
      await this.handle.close();
      await writeCompact(this.path, pending, marks);
      this.handle = await fs.open(this.path, 'a');
      this.written = 0;
    });
  }

  async close(): Promise<void> {
    await this.queue.idle();
    await this.handle.close();
  }
}

export async function readJournal(file: string): Promise<JournalContents> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pending: [], settled: [], marks: new Map() };
    throw error;
  }
  const accepted = new Map<string, AcceptedEvent>();
  const settled: SettledEvent[] = [];
  const marks = new Map<string, unknown>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    let entry: Line;
    try {
      entry = JSON.parse(line) as Line;
    } catch {
      continue; // the torn tail of a crash mid-append: its append never resolved, so nobody was told it was kept
    }
    if ('a' in entry) accepted.set(entry.a, { id: entry.a, key: entry.k, acceptedAt: entry.t, row: entry.r });
    else if ('s' in entry) {
      accepted.delete(entry.s);
      settled.push({ id: entry.s, key: entry.k, status: entry.o, settledAt: entry.t, reason: entry.why, category: entry.c, order: entry.v });
      if (entry.v !== undefined && entry.o === 'delivered') marks.set(entry.k, entry.v);
    } else if ('m' in entry) marks.set(entry.m, entry.v);
  }
  return { pending: [...accepted.values()], settled, marks };
}

/** Writes a new journal beside the old one and renames it over, so a crash leaves one or the other whole. */
async function writeCompact(file: string, pending: AcceptedEvent[], marks: Map<string, unknown>): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await fs.open(temporary, 'w');
  try {
    const lines: string[] = [];
    for (const [key, value] of marks) lines.push(JSON.stringify({ m: key, v: value }));
    for (const e of pending) lines.push(JSON.stringify({ a: e.id, k: e.key, t: e.acceptedAt, r: e.row }));
    if (lines.length) await handle.write(lines.join('\n') + '\n');
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
  const dir = await fs.open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
