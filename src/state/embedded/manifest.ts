import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './durable-file.ts';

/**
 * Names one sync's current row state: the Parquet snapshot of `generation` (none for
 * generation 0) plus the journal of updates acknowledged since. Compaction writes the next
 * generation's files first and switches by replacing this file atomically.
 */
/**
 * format 1: snapshots of key, fp, status, dest_id, match; format 2 adds local_fp (see RowState).
 */
export interface Manifest {
  format: 1 | 2;
  generation: number;
  /** Recipe of the fingerprints; absent in manifests written before recipe v1. */
  fingerprint?: 'v1';
}

const FILE = 'manifest.json';

export function snapshotFile(dir: string, generation: number): string | null {
  return generation === 0 ? null : path.join(dir, `snapshot-${generation}.parquet`);
}

export function journalFile(dir: string, generation: number): string {
  return path.join(dir, `journal-${generation}.ndjson`);
}

/** Generation of a snapshot/journal file name, or undefined for other files. */
export function generationOf(file: string): number | undefined {
  const match = /^(?:snapshot-(\d+)\.parquet|journal-(\d+)\.ndjson)$/.exec(file);
  return match ? Number(match[1] ?? match[2]) : undefined;
}

export async function readManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { format: 2, generation: 0 };
    throw error;
  }
  const manifest = JSON.parse(text) as Manifest;
  if ((manifest.format !== 1 && manifest.format !== 2) || !Number.isInteger(manifest.generation)) {
    throw new Error(`${path.join(dir, FILE)} is not a Lastmile state manifest this version can read (format ${String(manifest.format)})`);
  }
  return manifest;
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path.join(dir, FILE), JSON.stringify(manifest) + '\n');
}
