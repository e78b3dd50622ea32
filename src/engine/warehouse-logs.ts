import path from 'node:path';
import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import type { RejectedRow } from '../state/run-record.ts';
import { ChangeColumns, rowsIn } from '../logs/change-columns.ts';
import type { LogWriter } from '../logs/log-tables.ts';
import { DuckdbLogWriter } from '../logs/duckdb-log-writer.ts';
import { PostgresLogWriter } from '../logs/postgres-log-writer.ts';
import type { RunRecorder, SettledRow } from './run-recorder.ts';
import { messageOf } from './diff-session.ts';
import { formatCount, formatDuration } from './trace-format.ts';

const REJECTED_PAGE = 10_000;

/**
 * How settled rows wait for the write: in chunks of `chunkRows`, kept in memory (about 40 bytes
 * a row besides its key) up to `holdRows`. Staging takes the event loop the delivery needs
 * (DuckDB's appender flushes synchronously) or a second write (Postgres), so the rows of a run up
 * to that size go to the writer once its delivery has ended (LogWriter.begin); past it, a chunk
 * is staged as it fills, keeping memory flat for a 10M-row run.
 */
export interface StagingLimits {
  chunkRows: number;
  holdRows: number;
}

const LIMITS: StagingLimits = { chunkRows: 20_000, holdRows: 200_000 };

/**
 * Sync logs written back to the warehouse (`logs: { source, schema }`): keeps every settled row
 * of the run (staging it off the warehouse, see StagingLimits), and once the run has ended
 * writes the run, its rows and its rejections into the log tables (see logs/log-tables.ts). A
 * failure to write is told in the run's trace; it never changes the run's outcome.
 */
export function collectSyncLogs(project: Project, recorder: RunRecorder, store: StateStore): SyncLogs | undefined {
  if (!project.logs) return undefined;
  const logs = new SyncLogs(logWriter(project, recorder), `${project.logs.source}.${project.logs.schema}`, recorder, store, project.logs.retentionMs);
  recorder.watchRows((rows, at) => queueMicrotask(() => logs.settled(rows, at)));
  logs.open();
  return logs;
}

export class SyncLogs {
  private filling: ChangeColumns;
  private readonly held: ChangeColumns[] = [];
  private staged = 0;
  private staging: Promise<void> = Promise.resolve();
  private stageError: unknown;
  private begun = false;

  constructor(
    private readonly writer: LogWriter,
    private readonly where: string,
    private readonly recorder: RunRecorder,
    private readonly store: StateStore,
    private readonly retentionMs?: number,
    private readonly limits = LIMITS,
  ) {
    this.filling = new ChangeColumns(limits.chunkRows);
  }

  /**
   * Rows as settled, called in a microtask: the rows' other watchers (the latency meter adds
   * each row's event time and L) have run by then.
   */
  settled(rows: SettledRow[], at: number): void {
    for (const row of rows) {
      if (this.filling.full) this.filled();
      this.filling.push(row, at);
    }
  }

  private filled(): void {
    this.held.push(this.filling);
    this.filling = new ChangeColumns(this.limits.chunkRows);
    if (this.held.length * this.limits.chunkRows > this.limits.holdRows) this.handOver([this.held.shift()!], (chunks) => this.writer.stage(chunks));
  }

  /**
   * Hands the writer the rows kept, in a microtask (after the last rows' watchers): it starts
   * writing them while the run's last step (folding its state) goes on.
   */
  deliveryEnded(): void {
    queueMicrotask(() => this.begin());
  }

  async writeBack(): Promise<void> {
    const { summary } = this.recorder;
    const started = Date.now();
    try {
      this.begin();
      await this.staging;
      if (this.stageError !== undefined) throw this.stageError;
      const rejections = await this.rejections();
      await this.writer.write({ summary, rejections, retentionMs: this.retentionMs });
      this.recorder.trace(4, `sync logs: written to ${this.where} (1 run, ${formatCount(this.staged)} changes, ${formatCount(rejections.length)} rejections) in ${formatDuration(Date.now() - started)}`);
    } catch (error) {
      this.recorder.trace(4, `sync logs: could not be written to ${this.where}: ${messageOf(error)}`);
    } finally {
      await this.writer.close();
      await this.recorder.flushTrace().catch(() => {});
    }
  }

  /** Once: after deliveryEnded() (in its microtask), or first thing in writeBack() when that came first or never came (a failed run). */
  private begin(): void {
    if (this.begun) return;
    this.begun = true;
    const rest = [...this.held.splice(0), this.filling].filter((chunk) => chunk.size > 0);
    this.filling = new ChangeColumns(this.limits.chunkRows);
    this.handOver(rest, (chunks) => this.writer.begin(chunks));
  }

  /** Gets the writer ready while the model is read. */
  open(): void {
    this.after(() => this.writer.open());
  }

  /** Gives the writer `chunks` (stage, or begin) after the steps before, counting their rows once it has them. */
  private handOver(chunks: ChangeColumns[], give: (chunks: ChangeColumns[]) => Promise<void>): void {
    this.after(async () => {
      await give(chunks);
      this.staged += rowsIn(chunks);
    });
  }

  /** Staging steps run one after the other; after one fails, none runs, and writeBack reports it. */
  private after(step: () => Promise<void>): void {
    this.staging = this.staging.then(async () => {
      if (this.stageError === undefined) await step();
    }).catch((error: unknown) => void (this.stageError ??= error));
  }

  private async rejections(): Promise<RejectedRow[]> {
    const out: RejectedRow[] = [];
    for (;;) {
      const page = await this.store.listRejected(this.recorder.runId, { offset: out.length, limit: REJECTED_PAGE });
      out.push(...page.rows);
      if (page.rows.length === 0 || out.length >= page.total) return out;
    }
  }
}

function logWriter(project: Project, recorder: RunRecorder): LogWriter {
  const { source, schema } = project.logs!;
  const config = project.sources[source]!;
  const run = { runId: recorder.runId, sync: recorder.summary.sync };
  if (config.type === 'duckdb') return new DuckdbLogWriter(path.resolve(project.rootDir, String(config.path)), schema, run);
  const { url, host, port, user, password, database } = config as Record<string, string | number | undefined>;
  return new PostgresLogWriter(url ? { connectionString: String(url) } : { host: host as string, port: port as number, user: user as string, password: password as string, database: database as string }, schema, run);
}
