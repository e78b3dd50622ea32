import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadProject } from '../../src/config/load-project.ts';
import { runSync } from '../../src/engine/run-sync.ts';
import type { RunSummary } from '../../src/state/run-record.ts';
import { openStateStore } from '../../src/state/open-state-store.ts';
import type { StateStore } from '../../src/state/state-store.ts';

/** Rows of a query on a DuckDB file, opened read-only (as JSON-safe values). */
export async function duckRows(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const db = await instance.connect();
  try {
    return (await db.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

/** Runs `;`-separated statements against a DuckDB file, then closes it so a run can attach it. */
export async function warehouseSql(file: string, statements: string): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const db = await instance.connect();
  try {
    for (const statement of statements.split(';').map((s) => s.trim()).filter(Boolean)) await db.run(statement);
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}

export interface TempProject {
  dir: string;
  store: StateStore;
  /** Statements against the project's warehouse.duckdb. */
  sql(statements: string): Promise<void>;
  run(sync: string): Promise<RunSummary>;
  /** Closes the state store and removes the folder. */
  close(): Promise<void>;
}

/**
 * A throwaway project folder: `lastmile.yml` (version and embedded state, then `yaml`), a
 * DuckDB warehouse file beside it, loaded with `env` for its ${NAME} references.
 */
export async function tempProject(yaml: string, env: Record<string, string> = {}): Promise<TempProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-project-'));
  const configPath = path.join(dir, 'lastmile.yml');
  await writeFile(configPath, `version: 1\nstate: .lastmile\n${yaml}`);
  const project = await loadProject(configPath, { ...process.env, ...env });
  const store = await openStateStore(project.state);
  return {
    dir,
    store,
    sql: (statements) => warehouseSql(path.join(dir, 'warehouse.duckdb'), statements),
    run: (sync) => runSync({ project, store }, sync, { trigger: 'cli' }),
    close: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
