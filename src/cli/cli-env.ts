import path from 'node:path';
import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import { loadProject } from '../config/load-project.ts';
import { secretRedactor } from '../config/redact.ts';
import { openProjectState } from '../state/open-state-store.ts';

export interface GlobalOptions {
  config: string;
  json?: boolean;
}

/** What every command needs: the project, its state store, and output that never shows a secret. */
export interface CliEnv {
  project: Project;
  store: StateStore;
  json: boolean;
  /** Human output (stdout); skipped under --json. */
  say(text: string): void;
  /** Machine output (stdout): one JSON document per line. */
  emit(value: unknown): void;
  /** Logs and progress (stderr). */
  log(text: string): void;
  close(): Promise<void>;
}

export async function openCliEnv(options: GlobalOptions): Promise<CliEnv> {
  const project = await loadProject(path.resolve(options.config));
  const store = await openProjectState(project);
  return withOutput(project, store, options.json ?? false);
}

export function withOutput(project: Project, store: StateStore, json: boolean): CliEnv {
  const clean = secretRedactor(project.secrets);
  return {
    project, store, json,
    say: (text) => { if (!json) process.stdout.write(clean(text) + '\n'); },
    emit: (value) => process.stdout.write(clean(JSON.stringify(value, jsonReplacer)) + '\n'),
    log: (text) => process.stderr.write(clean(text) + '\n'),
    close: () => store.close(),
  };
}

/** bigint values print as plain JSON numbers' digits would, but exactly: as strings. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}
