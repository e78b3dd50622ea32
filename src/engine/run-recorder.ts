import type { RejectCategory, Rejection } from '../destinations/destination.ts';
import type { StateStore } from '../state/state-store.ts';
import type { RejectedRow, RunProfile, RunSummary, TraceLine } from '../state/run-record.ts';
import { emptySummary } from '../state/run-record.ts';

const TRACE_FLUSH_INTERVAL_MS = 1_000;

export interface RunProgress {
  runId: string;
  phase: 'read' | 'diff' | 'push' | 'finalize';
  fetched: number;
  toSync: number;
  delivered: number;
  rejected: number;
  rowsPerSecond: number;
}

/**
 * Keeps one run's summary, trace and rejected rows, and writes them to the state store as
 * the run goes (so `runs show` and the UI see a live run, and a killed run leaves its trace).
 */
export class RunRecorder {
  readonly summary: RunSummary;
  toSync = 0;
  private phase: RunProgress['phase'] = 'read';
  private readonly started = Date.now();
  private pushStarted = 0;
  private traceBuffer: TraceLine[] = [];
  private retryableRejections = 0;
  private lastTraceFlush = 0;

  constructor(
    private readonly store: StateStore | undefined,
    readonly profile: RunProfile,
    sync: string,
    runId: string,
    private readonly onProgress?: (progress: RunProgress) => void,
  ) {
    this.summary = emptySummary(sync, runId, new Date(this.started).toISOString());
  }

  get runId(): string {
    return this.summary.runId;
  }

  get hasRetryableRejections(): boolean {
    return this.retryableRejections > 0;
  }

  async begin(): Promise<void> {
    await this.save();
  }

  enter(phase: RunProgress['phase']): void {
    this.phase = phase;
    if (phase === 'push') this.pushStarted = Date.now();
    this.progress();
  }

  trace(step: TraceLine['step'], text: string): void {
    this.traceBuffer.push({ at: new Date().toISOString(), step, text });
  }

  /**
   * Writes buffered trace lines. During a push this runs after every batch, so it writes at
   * most once a second (a live view needs no more); `force` at the end of a step.
   */
  async flushTrace(force = true): Promise<void> {
    if (!this.store || this.traceBuffer.length === 0) return;
    if (!force && Date.now() - this.lastTraceFlush < TRACE_FLUSH_INTERVAL_MS) return;
    this.lastTraceFlush = Date.now();
    const lines = this.traceBuffer;
    this.traceBuffer = [];
    await this.store.appendTrace(this.runId, lines);
  }

  async reject(rows: { key: string; rejection: Rejection }[]): Promise<void> {
    if (rows.length === 0) return;
    const at = new Date().toISOString();
    const records: RejectedRow[] = rows.map(({ key, rejection }) => ({
      runId: this.runId, sync: this.summary.sync, key, at,
      category: rejection.category, message: rejection.message, retryable: rejection.retryable,
      ...(rejection.code !== undefined ? { code: rejection.code } : {}),
      ...(rejection.field !== undefined ? { field: rejection.field } : {}),
    }));
    this.summary.rejected += rows.length;
    this.retryableRejections += rows.filter((row) => row.rejection.retryable).length;
    await this.store?.addRejected(records);
    this.progress();
  }

  delivered(count: number): void {
    this.summary.delivered += count;
    this.progress();
  }

  progress(): void {
    const seconds = (Date.now() - (this.pushStarted || this.started)) / 1000;
    const done = this.summary.delivered + this.summary.rejected;
    this.onProgress?.({
      runId: this.runId, phase: this.phase, fetched: this.summary.fetched, toSync: this.toSync,
      delivered: this.summary.delivered, rejected: this.summary.rejected,
      rowsPerSecond: seconds > 0 && this.phase === 'push' ? Math.round(done / seconds) : 0,
    });
  }

  async finish(status: RunSummary['status'], error?: string): Promise<RunSummary> {
    this.summary.status = status;
    this.summary.finishedAt = new Date().toISOString();
    this.summary.durationMs = Date.now() - this.started;
    if (error !== undefined) this.summary.error = error;
    this.enter('finalize');
    await this.flushTrace();
    await this.save();
    return this.summary;
  }

  async save(): Promise<void> {
    await this.store?.saveRun({ summary: { ...this.summary }, profile: this.profile });
  }
}

export type { RejectCategory };
