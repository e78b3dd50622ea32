import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CsvChunkFiles } from '../../src/sources/duckdb/csv-chunk-files.ts';

/** Rows whose quoted fields hold commas, doubled quotes and newlines. */
function csvRows(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${i},"a,""b""${'\n'.repeat(i % 3)}c",${i % 7 === 0 ? '' : `x${i}`}\n`);
}

/** The CSV in pieces of varied sizes, so cuts fall anywhere: inside quotes, on a quote, on a newline. */
function pieces(text: string): Buffer[] {
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let at = 0, size = 1; at < bytes.length; at += size, size = (size * 7 + 3) % 97 + 1) out.push(bytes.subarray(at, at + size));
  return out;
}

describe('CSV chunk files', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-chunks-test-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('hands over every byte, in order, in files that end at row ends', async () => {
    const rows = csvRows(3000);
    const files = new CsvChunkFiles(dir, 1024, 4096);
    const writing = pipeline(Readable.from(pieces(rows.join(''))), files);
    const contents: string[] = [];
    for await (const file of files.files()) {
      await new Promise((resolve) => setTimeout(resolve, 1)); // a slow consumer: the writer waits for room
      contents.push(await readFile(file.path, 'utf8'));
      expect(Buffer.byteLength(contents.at(-1)!)).toBe(file.bytes);
      await rm(file.path);
    }
    await writing;
    expect(contents.join('')).toBe(rows.join(''));
    expect(contents.length).toBeGreaterThan(10);
    // Each file holds whole rows: the rows it starts with are rows of the input, from its first byte on.
    let offset = 0;
    for (const content of contents) {
      expect(rows.join('').slice(offset, offset + content.length)).toBe(content);
      offset += content.length;
      expect(rowStarts(rows).has(offset)).toBe(true);
    }
  });

  it('an aligned writer is cut between its writes, without scanning', async () => {
    const rows = csvRows(500);
    const files = new CsvChunkFiles(dir, 512, 512, true);
    const writing = pipeline(Readable.from(rows.map((row) => Buffer.from(row))), files);
    const contents: string[] = [];
    for await (const file of files.files()) contents.push(await readFile(file.path, 'utf8'));
    await writing;
    expect(contents.join('')).toBe(rows.join(''));
    expect(contents.length).toBeGreaterThan(5);
  });

  it('a writer destroyed midway abandons the files not yet taken', async () => {
    const files = new CsvChunkFiles(dir, 64, 64);
    const failed = new Promise((resolve) => files.on('error', resolve));
    files.write(Buffer.from(csvRows(50).join('')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    files.destroy(new Error('the source failed'));
    const taken: string[] = [];
    for await (const file of files.files()) taken.push(file.path);
    expect(taken).toEqual([]);
    expect(await failed).toMatchObject({ message: 'the source failed' });
  });
});

function rowStarts(rows: string[]): Set<number> {
  const starts = new Set<number>();
  let at = 0;
  for (const row of rows) starts.add((at += row.length));
  return starts;
}
