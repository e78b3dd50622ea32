import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { loadProject } from '../../src/config/load-project.ts';

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

/** Writes files (name -> YAML) into a fresh folder; returns the folder. */
export async function writeProject(files: Record<string, string>): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'lm-config-'));
  folders.push(folder);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(folder, name)), { recursive: true });
    await writeFile(path.join(folder, name), text);
  }
  return folder;
}

/** Loads a single `lastmile.yml` with the given text. */
export async function loadYaml(text: string, env: Record<string, string> = {}) {
  const folder = await writeProject({ 'lastmile.yml': text });
  return loadProject(path.join(folder, 'lastmile.yml'), env);
}

/** The ConfigError a config gives; fails the test when it loads. */
export async function configError(text: string, env: Record<string, string> = {}): Promise<ConfigError> {
  const error = await loadYaml(text, env).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, 'the config should have been refused').toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

/** Lines joined, so a test can count where each one lands. */
export const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;
