import type { RejectCategory, Rejection } from '../destinations/destination.ts';
import type { StateStore } from '../state/state-store.ts';
import type { RejectedRow, RunProfile, RunSummary, TraceLine } from '../state/run-record.ts';
import { emptySummary } from '../state/run-record.ts';
import { emptyStats, type DeliveryStats } from '../delivery/deliver.ts';
import type { Value } from '../sources/source.ts';
import { matchJson } from '../state/value-json.ts';

/** During a push, the trace and the summary (what was committed so far) are written this often. */
const CHECKPOINT_INTERVAL_MS = 1_000;

export interface RunProgress {
  runId: string;
  phase: 'read' | 'diff' | 'push' | 'finalize';
  fetched: number;
  toSync: number;
  delivered: number;
  rejected: number;
  deferred: number;
  skipped: number;
  apiCalls: number;
  retries: number;
  /** Requests spent isolating rows of batches the destination refused whole. */
  splitCalls: number;
  /** 429 answers waited out. */
  throttled: number;
  rowsPerSecond: number;
}

/** A row the destination answered for (or the engine gave up on for this run), as step 3 settles it. */
export interface SettledRow {
  key: string;
  op: string;
  outcome: 'delivered' | 'rejected' | 'deferred';
  /** With a model's eventTime: the row's event time (epoch ms, carried from its change), and once delivered its L (set by the latency meter). */
  eventAt?: number;
  latencyMs?: number;
}

/** A refused row with its reason and the values it carried (see RejectedRow.sent). */
export interface RejectedChange {
  key: string;
  rejection: Rejection;
  sent?: Record<string, Value>;
}

/** Looks at each settled batch: `at` is when its answer came. */
export type RowWatcher = (rows: SettledRow[], at: number) => void;

/**
 * Keeps one run's summary, trace and rejected rows, and writes them to the state store as
 * the run goes (so `runs show` and the UI see a live run, and a killed run leaves its trace).
 */
export class RunRecorder {
  readonly summary: RunSummary;
  /** The delivery's counters, filled as it goes (requests, retries, deferred rows…). */
  readonly delivery: DeliveryStats = emptyStats();
  private phase: RunProgress['phase'] = 'read';
  private readonly started = Date.now();
  private pushStarted = 0;
  private traceBuffer: TraceLine[] = [];
  private lastCheckpoint = 0;
  private readonly rowWatchers: RowWatcher[] = [];
  private readonly finishers: (() => void)[] = [];

  constructor(
    private readonly store: StateStore | undefined,
    readonly profile: RunProfile,
    sync: string,
    runId: string,
    private readonly onProgress?: (progress: RunProgress) => void,
  ) {
    this.summary = { ...emptySummary(sync, runId, new Date(this.started).toISOString()), trigger: profile.trigger };
  }

  get runId(): string {
    return this.summary.runId;
  }

  /** Rows this run had to settle (set once the diff is known). */
  get toSync(): number {
    return this.summary.toSync;
  }

  set toSync(rows: number) {
    this.summary.toSync = rows;
  }

  /** Some rows must be read again next run: rejected for a retry, or not settled. */
  get leavesRowsBehind(): boolean {
    return this.summary.rejectedRetryable > 0 || this.unsettled() > 0;
  }

  /** Asks to see every settled batch (latency, sync logs): nobody asks, nothing is built. */
  watchRows(watcher: RowWatcher): void {
    this.rowWatchers.push(watcher);
  }

  get watchesRows(): boolean {
    return this.rowWatchers.length > 0;
  }

  /** Rows settled at `at` (epoch ms; a worker of a distributed run says when it settled them). */
  rowsSettled(rows: SettledRow[], at = Date.now()): void {
    for (const watcher of this.rowWatchers) watcher(rows, at);
  }

  /** Runs `hook` as the run ends, before its summary is written (to add what was measured). */
  beforeFinish(hook: () => void): void {
    this.finishers.push(hook);
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

  /** Writes buffered trace lines (at the end of a step). */
  async flushTrace(): Promise<void> {
    if (!this.store || this.traceBuffer.length === 0) return;
    const lines = this.traceBuffer;
    this.traceBuffer = [];
    await this.store.appendTrace(this.runId, lines);
  }

  /**
   * After every settled batch: at most once a second (a live view needs no more) writes the
   * trace and the summary as committed so far, so a run killed now is found with its counts.
   */
  async checkpoint(): Promise<void> {
    if (Date.now() - this.lastCheckpoint < CHECKPOINT_INTERVAL_MS) return;
    this.lastCheckpoint = Date.now();
    await this.flushTrace();
    await this.save();
  }

  async reject(rows: RejectedChange[]): Promise<void> {
    if (rows.length === 0) return;
    const at = new Date().toISOString();
    const records: RejectedRow[] = rows.map(({ key, rejection, sent }) => ({
      runId: this.runId, sync: this.summary.sync, key, at,
      category: rejection.category, message: rejection.message, retryable: rejection.retryable,
      ...(rejection.code !== undefined ? { code: rejection.code } : {}),
      ...(rejection.field !== undefined ? { field: rejection.field } : {}),
      ...(sent ? { sent: JSON.parse(matchJson(sent)!) as Record<string, unknown> } : {}),
    }));
    this.summary.rejected += rows.length;
    this.summary.rejectedRetryable += rows.filter((row) => row.rejection.retryable).length;
    await this.store?.addRejected(records);
    this.progress();
  }

  delivered(count: number): void {
    this.summary.delivered += count;
    this.progress();
  }

  /** Deletes of rows the destination never held: nothing to send. */
  skip(count: number): void {
    this.summary.skipped += count;
  }

  progress(): void {
    const seconds = (Date.now() - (this.pushStarted || this.started)) / 1000;
    const s = this.summary;
    const done = s.delivered + s.rejected + s.skipped;
    this.onProgress?.({
      runId: this.runId, phase: this.phase, fetched: s.fetched, toSync: s.toSync,
      delivered: s.delivered, rejected: s.rejected, deferred: this.delivery.deferred, skipped: s.skipped,
      apiCalls: this.delivery.apiCalls, retries: this.delivery.retries,
      splitCalls: this.delivery.splitCalls, throttled: this.delivery.throttled,
      rowsPerSecond: seconds > 0 && this.phase === 'push' ? Math.round(done / seconds) : 0,
    });
  }

  /** Rows to sync that have no outcome: deferred to the next run. */
  private unsettled(): number {
    const s = this.summary;
    return Math.max(0, s.toSync - s.delivered - s.rejected - s.skipped);
  }

  async finish(status: RunSummary['status'], error?: string): Promise<RunSummary> {
    this.summary.deferred = this.unsettled();
    this.summary.status = status;
    this.summary.finishedAt = new Date().toISOString();
    this.summary.durationMs = Date.now() - this.started;
    if (error !== undefined) this.summary.error = error;
    for (const hook of this.finishers) hook();
    this.enter('finalize');
    await this.flushTrace();
    await this.save();
    return this.summary;
  }

  /**
   * A summary finished elsewhere (a distributed run's last batch settled by another worker)
   * becomes this run's: the finish hooks add what was measured here (latency), and it is saved.
   */
  async adopt(summary: RunSummary): Promise<RunSummary> {
    Object.assign(this.summary, summary);
    for (const hook of this.finishers) hook();
    await this.flushTrace();
    await this.store?.saveRun({ summary: { ...this.summary }, profile: this.profile });
    return this.summary;
  }

  async save(): Promise<void> {
    const { apiCalls, retries, throttled } = this.delivery;
    Object.assign(this.summary, { apiCalls, retries, throttled });
    await this.store?.saveRun({ summary: { ...this.summary }, profile: this.profile });
  }
}

export type { RejectCategory };
