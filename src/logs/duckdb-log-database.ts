import type { DuckDBConnection } from '@duckdb/node-api';
import { openWorkspace, type Workspace } from '../diff/workspace/workspace.ts';

/**
 * The in-memory DuckDB that the DuckDB log writers of a process share. DuckDB guards a file
 * against two writers only between processes, or within one instance: two instances of one
 * process attach the same file for writing without a word, and when two runs (two syncs of a
 * server) ended together and wrote their logs at once, their commits broke each other ("Checkpoint
 * failed … the database has been invalidated") and both runs' logs were lost. So every writer
 * works in this one instance, on a connection of its own (its staged rows in temp tables only it
 * sees), and writes into files one at a time. The first writer opens it, the last one closes it.
 */
export interface LogDatabase {
  /** The writer's own connection. */
  connection: DuckDBConnection;
  /** Runs `write` once no other writer of this process is writing. */
  inTurn<T>(write: () => Promise<T>): Promise<T>;
  /** The writer is done with it: closes its connection, and the database after the last writer. */
  leave(): Promise<void>;
}

interface Shared {
  workspace: Promise<Workspace>;
  writers: number;
  /** The last write in line: the next one starts after it, whether it failed or not. */
  turns: Promise<unknown>;
}

let shared: Shared | undefined;

export async function joinLogDatabase(): Promise<LogDatabase> {
  const database = (shared ??= { workspace: openWorkspace(), writers: 0, turns: Promise.resolve() });
  database.writers++;
  let connection: DuckDBConnection;
  try {
    connection = await (await database.workspace).connect();
  } catch (error) {
    await leave(database);
    throw error;
  }
  return {
    connection,
    inTurn(write) {
      const turn = database.turns.then(write);
      database.turns = turn.catch(() => {});
      return turn;
    },
    async leave() {
      connection.closeSync();
      await leave(database);
    },
  };
}

async function leave(database: Shared): Promise<void> {
  if (--database.writers > 0) return;
  if (shared === database) shared = undefined;
  await (await database.workspace.catch(() => undefined))?.close();
}
