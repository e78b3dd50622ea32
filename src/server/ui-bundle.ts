import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

/** Hash paths are written relative to this folder, so a bundle's stamp is the same in a clone and a package. */
const here = resolve(PACKAGE_ROOT, 'src', 'server');
export const UI_SOURCE_DIR = resolve(PACKAGE_ROOT, 'src', 'ui');
/** git-ignored (dist/): built from src/ui, never committed; the package ships it built. */
export const UI_BUNDLE_DIR = resolve(PACKAGE_ROOT, 'dist', 'ui');
const STAMP = '.source-hash';
/** Files outside src/ui that the bundle includes, so a change to them rebuilds it too. */
const SHARED_SOURCES = [resolve(here, '../engine/trace-format.ts')];

let building: Promise<string> | undefined;

/**
 * The folder of the built web UI, building it first when it is missing or older than
 * src/ui (a stamp of the sources' hash says which sources a bundle came from). So a fresh
 * clone needs no build step: the first `lastmile serve` builds it (a few seconds).
 */
export async function ensureUiBundle(): Promise<string> {
  if (!existsSync(UI_SOURCE_DIR)) {
    if (existsSync(join(UI_BUNDLE_DIR, 'index.html'))) return UI_BUNDLE_DIR;
    throw new Error(`the web UI is neither built (${UI_BUNDLE_DIR}) nor present as source (${UI_SOURCE_DIR})`);
  }
  const hash = await sourceHash();
  const stamp = await readFile(join(UI_BUNDLE_DIR, STAMP), 'utf8').catch(() => '');
  if (stamp === hash) return UI_BUNDLE_DIR;
  building ??= buildUi(hash).finally(() => { building = undefined; });
  return building;
}

/** Builds src/ui with Vite into a fresh folder, then swaps it in (two builds at once never mix files). */
export async function buildUi(hash?: string): Promise<string> {
  const stamp = hash ?? await sourceHash();
  const [{ build }, { default: react }] = await Promise.all([import('vite'), import('@vitejs/plugin-react')]).catch((error) => {
    throw new Error(`cannot build the web UI: vite and @vitejs/plugin-react are needed (npm install --include=dev); ${(error as Error).message}`);
  });
  const staging = `${UI_BUNDLE_DIR}.building-${process.pid}-${Date.now()}`;
  await mkdir(dirname(UI_BUNDLE_DIR), { recursive: true });
  try {
    await build({
      root: UI_SOURCE_DIR, base: './', configFile: false, logLevel: 'warn', plugins: [react()],
      build: { outDir: staging, emptyOutDir: true, chunkSizeWarningLimit: 1000 },
    });
    await writeFile(join(staging, STAMP), stamp);
    const old = `${UI_BUNDLE_DIR}.old-${process.pid}-${Date.now()}`;
    await rename(UI_BUNDLE_DIR, old).catch(() => undefined);
    await rename(staging, UI_BUNDLE_DIR).catch(async (error) => {
      // Another process swapped in its build first: fine when it is of the same sources.
      const theirs = await readFile(join(UI_BUNDLE_DIR, STAMP), 'utf8').catch(() => '');
      if (theirs !== stamp) throw error;
    });
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return UI_BUNDLE_DIR;
}

async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...(await listFiles(UI_SOURCE_DIR)).sort(), ...SHARED_SOURCES]) {
    hash.update(relative(here, file)).update('\0').update(await readFile(file)).update('\0');
  }
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : Promise.resolve([path]);
  }));
  return nested.flat();
}
