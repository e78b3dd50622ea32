import fs from 'node:fs/promises';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** fsync a file (or a folder, so a rename or a new name in it survives a power cut). */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `target` atomically: readers see the old content or the new one, never a mix. */
export async function writeFileAtomic(target: string, content: string): Promise<void> {
  const temp = `${target}.${process.pid}.tmp`;
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, target);
  await fsyncPath(path.dirname(target));
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir loops forever where a parent exists
 * but refuses children (/proc). Throws the first refusal, which names the folder.
 */
export function makeFolderSync(dir: string): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) throw new Error(`${at} is a file, not a folder`);
  for (const folder of missing) mkdirSync(folder);
}
