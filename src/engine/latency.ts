import type { Percentiles, RunLatency } from '../state/run-record.ts';
import type { DiffSession } from './diff-session.ts';
import type { ResolvedSync } from './resolve-sync.ts';
import type { RunRecorder } from './run-recorder.ts';
import { epochMsOf } from './event-time.ts';
import { tapChanges } from './tap-changes.ts';
import { formatAge, formatCount } from './trace-format.ts';

/** Gets every delivered row's L (ms) once the run ends: /metrics makes a histogram of them. */
export type LatencySink = (sync: string, latenciesMs: Float64Array) => void;

/**
 * End-to-end latency per row, with a model's `eventTime`: L = event time -> the destination's
 * acknowledgement of the row, split as the reference page does: warehouse load (event time -> the
 * run's read of the model) + sync (read -> acknowledged). The event time of each row sent is kept by
 * key until its batch is answered; p50, p95 and max land in the summary and the trace.
 */
export function measureLatency(session: DiffSession, { model }: ResolvedSync, recorder: RunRecorder, sink?: LatencySink): void {
  const column = model.eventTime;
  if (!column) return;
  const readAt = Date.parse(recorder.summary.startedAt);
  const eventAt = new Map<string, number>();
  session.diff = tapChanges(session.diff, (chunk) => {
    for (const { key, row } of chunk) {
      const ms = row ? epochMsOf(row[column]) : undefined;
      if (ms !== undefined) eventAt.set(key, ms);
    }
    return chunk;
  });
  const total = new Samples();
  const load = new Samples();
  const sync = new Samples();
  recorder.watchRows((rows, at) => {
    for (const row of rows) {
      const event = eventAt.get(row.key);
      if (event === undefined) continue;
      row.eventAt = event;
      if (row.outcome !== 'deferred') eventAt.delete(row.key);
      if (row.outcome !== 'delivered') continue;
      row.latencyMs = at - event;
      total.add(at - event);
      load.add(readAt - event);
      sync.add(at - readAt);
    }
  });
  recorder.beforeFinish(() => {
    if (total.size === 0) return;
    const latency: RunLatency = { ...total.percentiles(), rows: total.size, warehouseLoad: load.percentiles(), sync: sync.percentiles() };
    recorder.summary.latency = latency;
    recorder.trace(4, `latency (${column} -> acknowledged, ${formatCount(latency.rows)} rows): ${describeLatency(latency)}`);
    sink?.(recorder.summary.sync, total.values());
  });
}

/** `L p50 4 min  p95 12 min  max 20 min (warehouse load p95 11 min + sync p95 40 s)` */
export function describeLatency(l: RunLatency): string {
  return `L p50 ${formatAge(l.p50Ms)}  p95 ${formatAge(l.p95Ms)}  max ${formatAge(l.maxMs)} ` +
    `(warehouse load p95 ${formatAge(l.warehouseLoad.p95Ms)} + sync p95 ${formatAge(l.sync.p95Ms)})`;
}

/** Milliseconds, kept in a growing typed array (8 bytes a row). */
class Samples {
  private data = new Float64Array(1024);
  size = 0;

  add(ms: number): void {
    if (this.size === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.size++] = ms;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.size);
  }

  /** Nearest-rank percentiles: every value reported is one a row had. */
  percentiles(): Percentiles {
    const sorted = this.values().slice().sort();
    const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
    return { p50Ms: Math.round(rank(0.5)), p95Ms: Math.round(rank(0.95)), maxMs: Math.round(sorted[sorted.length - 1]) };
  }
}
