import type { Percentiles, RunLatency } from '../state/run-record.ts';
import type { DiffSession } from './diff-session.ts';
import type { ResolvedSync } from './resolve-sync.ts';
import type { RunRecorder } from './run-recorder.ts';
import { epochMsOf } from './event-time.ts';
import { tapChanges } from './tap-changes.ts';
import { formatAge, formatCount } from './trace-format.ts';
import { Samples } from './latency-samples.ts';

/** Gets every delivered row's L (ms) once the run ends: /metrics makes a histogram of them. */
export type LatencySink = (sync: string, latenciesMs: Float64Array) => void;

/**
 * End-to-end latency per row, with a model's `eventTime`: L = event time -> the destination's
 * acknowledgement of the row, split as the reference page does: warehouse load (event time -> the
 * run's read of the model) + sync (read -> acknowledged). Each change carries its event time (the
 * workspace diff computes it in SQL; for any other diff it is read here from the row) to its settled
 * row; p50, p95 and max land in the summary and the trace.
 */
export function measureLatency(session: DiffSession, { model }: ResolvedSync, recorder: RunRecorder, sink?: LatencySink): void {
  const column = model.eventTime;
  if (!column) return;
  const readAt = Date.parse(recorder.summary.startedAt);
  session.diff = tapChanges(session.diff, (chunk) => {
    for (const change of chunk) {
      if (change.eventAt === undefined) change.eventAt = (change.row ? epochMsOf(change.row[column]) : undefined) ?? null;
    }
    return chunk;
  });
  const total = new Samples();
  const load = new Samples();
  const sync = new Samples();
  recorder.watchRows((rows, at) => {
    for (const row of rows) {
      const event = row.eventAt;
      if (event === undefined || row.outcome !== 'delivered') continue;
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
