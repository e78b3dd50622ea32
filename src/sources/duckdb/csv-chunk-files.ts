import path from 'node:path';
import { open, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';

export interface CsvFile {
  path: string;
  bytes: number;
}

/** Bytes gathered before one write: small writes cost more than the copy itself. */
const WRITE_BYTES = 1024 * 1024;

/**
 * A CSV stream cut into files at row ends, so one file can load while the next is written.
 * A newline ends a row unless it is inside a quoted field; quotes inside a field are doubled,
 * so the count of quotes seen tells which. Writers whose every write ends a row (`aligned`)
 * skip that scan. Files start at `firstBytes` and double up to `maxBytes`: the first rows
 * load soon, and few loads carry many rows.
 */
export class CsvChunkFiles extends Writable {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private fileBytes = 0;
  private count = 0;
  private chunkBytes: number;
  private inQuotes = false;
  private readonly ready: CsvFile[] = [];
  private finished = false;
  /** Destroyed before the CSV ended (failure, abort): the files left are not loaded. */
  private abandoned = false;
  private wake?: () => void;
  private room?: () => void;

  constructor(private readonly dir: string, firstBytes: number, private readonly maxBytes: number, private readonly aligned = false) {
    super();
    this.chunkBytes = firstBytes;
  }

  /** The finished files, in order; each is the consumer's to delete. Ends when the CSV has. */
  async *files(): AsyncIterable<CsvFile> {
    while (!this.abandoned) {
      const next = this.ready.shift();
      this.room?.();
      if (next !== undefined) yield next;
      else if (this.finished) return;
      else await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.append(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.cut().then(() => {
      this.finished = true;
      this.wake?.();
      done();
    }, done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // A writable destroys itself after it finished: only an earlier destroy abandons the files.
    if (!this.finished) this.abandoned = true;
    this.finished = true;
    this.wake?.();
    this.room?.();
    done(error);
  }

  private async append(chunk: Buffer): Promise<void> {
    const end = this.aligned ? chunk.length : this.lastRowEnd(chunk);
    if (end > 0 && this.fileBytes + this.pendingBytes + chunk.length >= this.chunkBytes) {
      this.gather(chunk.subarray(0, end));
      await this.cut();
      if (end < chunk.length) this.gather(chunk.subarray(end));
    } else {
      this.gather(chunk);
    }
    if (this.pendingBytes >= WRITE_BYTES) await this.flush();
  }

  private gather(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
  }

  private currentFile(): string {
    return path.join(this.dir, `rows-${this.count + 1}.csv`);
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buffers = this.pending;
    this.pending = [];
    const file = await open(this.currentFile(), this.fileBytes === 0 ? 'w' : 'a', 0o600);
    try {
      await file.writev(buffers);
    } finally {
      await file.close();
    }
    this.fileBytes += this.pendingBytes;
    this.pendingBytes = 0;
  }

  /** Finishes the current file and hands it over; waits while two files wait to load. */
  private async cut(): Promise<void> {
    await this.flush();
    if (this.fileBytes === 0) return;
    this.ready.push({ path: this.currentFile(), bytes: this.fileBytes });
    this.count++;
    this.fileBytes = 0;
    this.chunkBytes = Math.min(this.chunkBytes * 2, this.maxBytes);
    this.wake?.();
    while (this.ready.length > 2 && !this.abandoned) await new Promise<void>((resolve) => { this.room = resolve; });
  }

  /** The index just past the last row end in `bytes` (0 when none), tracking quotes across chunks. */
  private lastRowEnd(bytes: Buffer): number {
    let end = 0;
    let pos = 0;
    while (pos < bytes.length) {
      const quote = bytes.indexOf(0x22, pos);
      if (this.inQuotes) {
        if (quote < 0) break;
        this.inQuotes = false;
      } else {
        const stop = quote < 0 ? bytes.length : quote;
        const newline = stop > pos ? bytes.lastIndexOf(0x0a, stop - 1) : -1;
        if (newline >= pos) end = newline + 1;
        if (quote < 0) break;
        this.inQuotes = true;
      }
      pos = quote + 1;
    }
    return end;
  }
}
