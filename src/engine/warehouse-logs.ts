import path from 'node:path';
import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import type { RejectedRow } from '../state/run-record.ts';
import { changeRow, type LogWriter } from '../logs/log-tables.ts';
import { DuckdbLogWriter } from '../logs/duckdb-log-writer.ts';
import { PostgresLogWriter } from '../logs/postgres-log-writer.ts';
import type { RunRecorder, SettledRow } from './run-recorder.ts';
import { messageOf } from './diff-session.ts';
import { formatCount, formatDuration } from './trace-format.ts';

const REJECTED_PAGE = 10_000;

/** Settled rows staged at a time. */
const STAGE_EVERY = 10_000;

/**
 * Sync logs written back to the warehouse (`logs: { source, schema }`): stages every settled row
 * of the run as it goes (in chunks, off the warehouse), and once the run has ended writes the
 * run, its rows and its rejections into the log tables (see logs/log-tables.ts). A failure to
 * write is told in the run's trace; it never changes the run's outcome, which is settled by then.
 */
export function collectSyncLogs(project: Project, recorder: RunRecorder, store: StateStore): SyncLogs | undefined {
  if (!project.logs) return undefined;
  const logs = new SyncLogs(logWriter(project), `${project.logs.source}.${project.logs.schema}`, recorder, store, project.logs.retentionMs);
  recorder.watchRows((rows, at) => logs.settled(rows, at));
  return logs;
}

export class SyncLogs {
  private pending: { row: SettledRow; at: number }[] = [];
  private staged = 0;
  private staging: Promise<void> = Promise.resolve();
  private stageError: unknown;

  constructor(
    private readonly writer: LogWriter,
    private readonly where: string,
    private readonly recorder: RunRecorder,
    private readonly store: StateStore,
    private readonly retentionMs?: number,
  ) {}

  settled(rows: SettledRow[], at: number): void {
    for (const row of rows) this.pending.push({ row, at });
    if (this.pending.length >= STAGE_EVERY) this.stage();
  }

  async writeBack(): Promise<void> {
    const { summary } = this.recorder;
    const started = Date.now();
    try {
      this.stage();
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

  /**
   * Hands the rows settled so far to the writer. In a microtask: the rows' other watchers (the
   * latency meter adds each row's event time and L) have run by then.
   */
  private stage(): void {
    const rows = this.pending;
    this.pending = [];
    const { runId, summary: { sync } } = this.recorder;
    this.staging = this.staging.then(async () => {
      if (rows.length === 0 || this.stageError !== undefined) return;
      await this.writer.stage(rows.map(({ row, at }) => changeRow(runId, sync, row, at)));
      this.staged += rows.length;
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

function logWriter(project: Project): LogWriter {
  const { source, schema } = project.logs!;
  const config = project.sources[source]!;
  if (config.type === 'duckdb') return new DuckdbLogWriter(path.resolve(project.rootDir, String(config.path)), schema);
  const { url, host, port, user, password, database } = config as Record<string, string | number | undefined>;
  return new PostgresLogWriter(url ? { connectionString: String(url) } : { host: host as string, port: port as number, user: user as string, password: password as string, database: database as string }, schema);
}
