import pg from 'pg';
import type { RejectCategory } from '../../destinations/destination.ts';
import type { Value } from '../../sources/source.ts';
import type { FingerprintRecipe, Lock, RejectedQuery, RowState, RowStateInput, RowStateFiles, RowStateUpdate, RunListQuery, StateStore } from '../state-store.ts';
import type { RejectedGroup } from '../rejected-groups.ts';
import type { RejectedRow, RunRecord, RunSummary, TraceLine } from '../run-record.ts';
import { DEFAULT_LOCK_TIMING, type LockHolder, type LockTiming } from '../lock-holder.ts';
import { PostgresHistory } from './postgres-history.ts';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openWorkspace, type Workspace } from '../../diff/workspace/workspace.ts';
import { acquirePostgresLock, assertPostgresLockHeld } from './postgres-lock.ts';
import { PostgresRowState } from './postgres-row-state.ts';
import { migrate } from './postgres-schema.ts';
import { redactRecord, type Redactor } from '../../config/redact.ts';

export interface PostgresStateOptions {
  /** Schema holding the tables; default `lastmile`, or the URL's `?schema=`. */
  schema?: string;
  lock?: Partial<LockTiming>;
  /** Applied to run summaries, trace lines and rejected rows before they are stored. */
  redact?: Redactor;
}

/** `state: postgres://…`: state shared by every process and host (serve, workers, CLI). */
export class PostgresStateStore implements StateStore {
  readonly kind = 'postgres' as const;
  private readonly rowState: PostgresRowState;
  private readonly history: PostgresHistory;
  private readonly timing: LockTiming;
  /** Locks this store's runs hold: their writes stop if another run took one over. */
  private readonly held = new Map<string, LockHolder>();
  private readonly redact: Redactor;

  private constructor(private readonly pool: pg.Pool, readonly schema: string, options: PostgresStateOptions) {
    this.rowState = new PostgresRowState(pool, schema, () => this.duckdb(), async (client, sync) => {
      const holder = this.held.get(sync);
      if (holder) await assertPostgresLockHeld(client, schema, holder);
    });
    this.history = new PostgresHistory(pool, schema);
    this.timing = { ...DEFAULT_LOCK_TIMING, ...options.lock };
    this.redact = options.redact ?? ((text) => text);
  }

  /** A DuckDB of the store's own, opened when a Parquet file of rows must be read. */
  private scratch?: Promise<Workspace>;

  private async duckdb(): Promise<DuckDBConnection> {
    this.scratch ??= openWorkspace();
    return (await this.scratch).connection;
  }

  /** Connects and creates (or upgrades) the schema's tables. */
  static async open(url: string, options: PostgresStateOptions = {}): Promise<PostgresStateStore> {
    const parsed = new URL(url);
    const schema = options.schema ?? parsed.searchParams.get('schema') ?? 'lastmile';
    parsed.searchParams.delete('schema');
    const pool = new pg.Pool({ connectionString: parsed.toString(), max: 4 });
    pool.on('error', () => undefined); // an idle client's dropped connection: the next query reconnects
    try {
      await migrate(pool, schema);
    } catch (error) {
      await pool.end();
      throw new Error(`cannot open the Postgres state store (${redact(parsed)}, schema "${schema}"): ${(error as Error).message}`, { cause: error });
    }
    return new PostgresStateStore(pool, schema, options);
  }

  fingerprintRecipe(sync: string): Promise<FingerprintRecipe | null> {
    return this.rowState.recipe(sync);
  }

  readRowState(sync: string, options: { chunkSize?: number; signal?: AbortSignal } = {}): AsyncIterable<RowState[]> {
    return this.rowState.read(sync, options.chunkSize ?? 10_000, options.signal ?? new AbortController().signal);
  }

  rowStateFiles(sync: string): Promise<RowStateFiles> {
    return this.rowState.files(sync);
  }

  /** Commits land in the table itself: there is nothing to fold. */
  async compactRowState(): Promise<void> {}

  commitRows(sync: string, updates: RowStateUpdate[]): Promise<void> {
    if (!updates.length) return Promise.resolve();
    return this.rowState.commit(sync, updates);
  }

  replaceRowState(sync: string, rows: RowStateInput): Promise<void> {
    return this.rowState.replace(sync, rows);
  }

  forgetFingerprints(sync: string): Promise<void> {
    return this.rowState.forget(sync);
  }

  getCursor(sync: string): Promise<Value | null> {
    return this.history.getCursor(sync);
  }

  setCursor(sync: string, value: Value | null): Promise<void> {
    return this.history.setCursor(sync, value);
  }

  async acquireLock(sync: string, runId: string): Promise<Lock> {
    const lock = await acquirePostgresLock(this.pool, this.schema, sync, runId, this.timing);
    this.held.set(sync, lock.holder);
    return {
      release: async () => {
        if (this.held.get(sync) === lock.holder) this.held.delete(sync);
        await lock.release();
      },
    };
  }

  saveRun(run: RunRecord): Promise<void> {
    return this.history.saveRun(redactRecord(run, this.redact));
  }

  abandonDeadRuns(): Promise<string[]> {
    return this.history.abandonDeadRuns(this.timing);
  }

  appendTrace(runId: string, lines: TraceLine[]): Promise<void> {
    return this.history.appendTrace(runId, redactRecord(lines, this.redact));
  }

  addRejected(rows: RejectedRow[]): Promise<void> {
    return this.history.addRejected(redactRecord(rows, this.redact));
  }

  listRuns(query?: RunListQuery): Promise<RunSummary[]> {
    return this.history.listRuns(query);
  }

  getRun(runId: string): Promise<(RunRecord & { trace: TraceLine[] }) | undefined> {
    return this.history.getRun(runId);
  }

  listRejected(runId: string, query?: RejectedQuery): Promise<{ total: number; rows: RejectedRow[] }> {
    return this.history.listRejected(runId, query);
  }

  rejectedByCategory(runId: string): Promise<Partial<Record<RejectCategory, number>>> {
    return this.history.rejectedByCategory(runId);
  }
  rejectedGroups(runId: string): Promise<RejectedGroup[]> {
    return this.history.rejectedGroups(runId);
  }

  latestRejections(sync: string): Promise<RejectedRow[]> {
    return this.history.latestRejections(sync);
  }

  pausedAt(sync: string): Promise<string | null> {
    return this.history.pausedAt(sync);
  }

  setPaused(sync: string, at: string | null): Promise<void> {
    return this.history.setPaused(sync, at);
  }


  async close(): Promise<void> {
    await this.rowState.close();
    await this.pool.end();
    if (this.scratch) await (await this.scratch).close();
  }
}

/** The URL without its password, for messages. */
function redact(url: URL): string {
  const copy = new URL(url);
  if (copy.password) copy.password = '***';
  return copy.toString();
}
