import type { DuckDBConnection } from '@duckdb/node-api';
import { openWorkspace, type Workspace } from '../diff/workspace/workspace.ts';

/**
 * The in-memory DuckDB that the DuckDB log writers of a process share. DuckDB guards a file
 * against two writers only between processes, or within one instance: two instances of one
 * process attach the same file for writing without a word, and when two runs (two syncs of a
 * server) ended together and wrote their logs at once, their commits broke each other ("Checkpoint
 * failed … the database has been invalidated") and both runs' logs were lost. So every writer
 * works in this one instance, on a connection of its own (its staged rows in temp tables only it
 * sees), and writes into files one turn at a time.
 *
 * It stays open while runs keep coming: opening and closing it cost a run ~30 ms of the event
 * loop each. It closes once no writer has used it for IDLE_MS, or when the process is about to
 * exit (a timer that does not keep the process alive, and `beforeExit`).
 */
export interface LogDatabase {
  /** The writer's own connection. */
  connection: DuckDBConnection;
  /** Resolves once no other writer of this process is writing, with what ends this writer's turn. */
  turn(): Promise<() => void>;
  /** The writer is done with it: closes its connection. */
  leave(): void;
}

const IDLE_MS = 60_000;

/**
 * One thread: its work (moving a run into the file) goes on beside the run's fold, which keeps
 * more than a core busy. With two, the insert compresses and writes the row groups itself and the
 * commit is short, but the fold slows by as much: the run takes as long.
 */
const THREADS = 1;

interface Shared {
  workspace: Promise<Workspace>;
  writers: number;
  /** Ends with the last turn in line: the next one starts then. */
  turns: Promise<void>;
  idle?: NodeJS.Timeout;
}

let shared: Shared | undefined;

export async function joinLogDatabase(): Promise<LogDatabase> {
  const database = (shared ??= open());
  clearTimeout(database.idle);
  database.writers++;
  let connection: DuckDBConnection;
  try {
    connection = await (await database.workspace).connect();
  } catch (error) {
    leave(database);
    throw error;
  }
  return {
    connection,
    turn() {
      let end!: () => void;
      const ended = new Promise<void>((resolve) => (end = resolve));
      const start = database.turns;
      database.turns = start.then(() => ended);
      return start.then(() => end);
    },
    leave() {
      connection.closeSync();
      leave(database);
    },
  };
}

function open(): Shared {
  const database: Shared = { workspace: openWorkspace({ threads: THREADS }), writers: 0, turns: Promise.resolve() };
  database.workspace.catch(() => forget(database)); // the next writer tries afresh
  process.once('beforeExit', closeBeforeExit);
  return database;
}

function leave(database: Shared): void {
  if (--database.writers > 0) return;
  database.idle = setTimeout(() => void close(database), IDLE_MS).unref();
}

async function close(database: Shared): Promise<void> {
  if (database.writers > 0) return;
  forget(database);
  await (await database.workspace.catch(() => undefined))?.close();
}

function forget(database: Shared): void {
  clearTimeout(database.idle);
  if (shared !== database) return;
  shared = undefined;
  process.off('beforeExit', closeBeforeExit);
}

/** The event loop has nothing left to do: closes the database (removing its spill folder), after which the process exits. */
function closeBeforeExit(): void {
  if (shared) void close(shared);
}
