import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding Lastmile's package.json: the clone when run from src/ with tsx, the
 * installed package (node_modules/lastmile-sync) when run from compiled dist/. Files shipped
 * beside the code (schema, presets, the built web UI) are found from here, whichever runs.
 */
export const PACKAGE_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The package's name and version, as published. */
export function packageInfo(): { name: string; version: string } {
  const { name, version } = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  return { name, version };
}
