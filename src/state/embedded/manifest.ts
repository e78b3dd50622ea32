import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './durable-file.ts';
import { RunError } from '../../errors.ts';

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

export function manifestFile(dir: string): string {
  return path.join(dir, FILE);
}

/** The manifest of `dir`; generation 0 (no snapshot yet) when there is none. */
export async function readManifest(dir: string): Promise<Manifest> {
  return (await findManifest(dir)) ?? { format: 2, generation: 0 };
}

/** The manifest of `dir`, or undefined when the file does not exist. Errors name the file. */
export async function findManifest(dir: string): Promise<Manifest | undefined> {
  const file = manifestFile(dir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RunError(`cannot read the state manifest ${file}: ${(error as Error).message}`, { cause: error });
  }
  let manifest: Partial<Manifest>;
  try {
    manifest = JSON.parse(text) as Partial<Manifest>;
  } catch (error) {
    throw new RunError(`${file} is damaged (${(error as Error).message}): it should read {"format":2,"generation":N,"fingerprint":"v1"}, N naming the newest snapshot-N.parquet beside it`, { cause: error });
  }
  if ((manifest?.format !== 1 && manifest?.format !== 2) || !Number.isInteger(manifest.generation)) {
    throw new RunError(`${file} is not a Lastmile state manifest this version can read (format ${String(manifest?.format)})`);
  }
  return manifest as Manifest;
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(manifestFile(dir), JSON.stringify(manifest) + '\n');
}
