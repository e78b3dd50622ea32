import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier } from '../../sql-identifier.ts';

/**
 * An in-memory DuckDB where a run reads the model and computes its diff. Memory is capped
 * (LASTMILE_MEMORY_LIMIT, default 256MB) and spills to a temp folder, so a 10M-row model does
 * not grow the process with it (96MB runs out during compaction; see README for the trade-off).
 */
export interface Workspace {
  connection: DuckDBConnection;
  /** Another connection to the same database, for a streaming read that must not share one (close it when done). */
  connect(): Promise<DuckDBConnection>;
  close(): Promise<void>;
}

export async function openWorkspace(options: { memoryLimit?: string; threads?: number } = {}): Promise<Workspace> {
  const spillDir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-ws-'));
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? process.env.LASTMILE_MEMORY_LIMIT ?? '256MB',
    // Lets large COPY / CREATE TABLE AS stream within the cap; no result here relies on row order.
    preserve_insertion_order: 'false',
    temp_directory: spillDir,
    ...(options.threads ? { threads: String(options.threads) } : {}),
  });
  const connection = await instance.connect();
  return {
    connection,
    connect: () => instance.connect(),
    async close() {
      connection.closeSync();
      instance.closeSync();
      await rm(spillDir, { recursive: true, force: true });
    },
  };
}

/** Quotes an identifier for DuckDB SQL (the standard way). */
export const quoteDuck = quoteIdentifier;

/** A DuckDB string literal. */
export function duckString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
