import type { ModelConfig } from '../config/project.ts';
import type { Diff } from '../diff/diff.ts';
import type { RunFreshness } from '../state/run-record.ts';
import { RunError } from '../errors.ts';
import type { DiffSession } from './diff-session.ts';
import type { ResolvedSync } from './resolve-sync.ts';
import type { RunRecorder } from './run-recorder.ts';
import { epochMsOf } from './event-time.ts';
import { tapChanges } from './tap-changes.ts';
import { formatAge } from './trace-format.ts';

/** A run stopped because its model's newest row is older than the model's maxAge. */
export class StaleDataError extends RunError {
  readonly category = 'stale_data' as const;
}

/**
 * How fresh the model is: its newest value of the freshness column (computed where the rows are,
 * in SQL), and its age now. A model with no rows, or no timestamp in the column, is stale.
 */
export async function measureFreshness(diff: Diff, model: ModelConfig, signal: AbortSignal, now = Date.now()): Promise<RunFreshness | undefined> {
  if (!model.freshness) return undefined;
  const { column, maxAgeMs } = model.freshness;
  const newestMs = epochMsOf(await diff.newest(column, signal));
  const ageMs = newestMs === undefined ? null : Math.max(0, now - newestMs);
  return {
    column, maxAgeMs, ageMs,
    newestAt: newestMs === undefined ? null : new Date(newestMs).toISOString(),
    stale: ageMs === null || ageMs > maxAgeMs,
  };
}

/**
 * The freshness guard, before anything is sent: records the model's freshness in the summary and
 * the trace; when it is stale, stops the run with a stale_data error. With sync `freshness:
 * { onStale: hold }` the judgement is per row instead: the run goes on with every row older than
 * maxAge held back, rejected as stale_data for a retry, so state keeps them due and the next run
 * looks again.
 */
export async function guardFreshness(session: DiffSession, { model, sync }: ResolvedSync, recorder: RunRecorder, signal: AbortSignal): Promise<void> {
  const started = Date.now();
  const freshness = await measureFreshness(session.diff, model, signal, started);
  if (!freshness) return;
  recorder.summary.freshness = freshness;
  recorder.trace(1, `freshness: ${describeFreshness(freshness)}`);
  if (sync.onStale !== 'hold') {
    if (!freshness.stale) return;
    throw new StaleDataError(`stale_data: model "${model.name}" is stale: ${describeFreshness(freshness)}; nothing was sent. Check what loads ${model.name}, or raise its freshness.maxAge`);
  }
  const cutoff = started - freshness.maxAgeMs;
  const column = freshness.column;
  const rejection = { category: 'stale_data' as const, retryable: true, message: `${column} is older than maxAge ${formatAge(freshness.maxAgeMs)}: held back until the row is fresh` };
  session.diff = tapChanges(session.diff, async (chunk) => {
    const held = chunk.filter(({ row }) => row !== null && !((epochMsOf(row[column]) ?? -Infinity) >= cutoff));
    if (held.length === 0) return chunk;
    freshness.held = (freshness.held ?? 0) + held.length;
    await recorder.reject(held.map(({ key }) => ({ key, rejection })));
    const heldKeys = new Set(held);
    return chunk.filter((change) => !heldKeys.has(change));
  });
  recorder.trace(1, `freshness: onStale hold: rows with ${column} older than ${formatAge(freshness.maxAgeMs)} are held back as stale_data`);
}

/** `newest scraped_at 2026-12-01T09:00:00.000Z, 3 h 2 min old (maxAge 2 h)` */
export function describeFreshness(f: RunFreshness): string {
  if (f.newestAt === null || f.ageMs === null) return `no row has a ${f.column} (maxAge ${formatAge(f.maxAgeMs)})`;
  return `newest ${f.column} ${f.newestAt}, ${formatAge(f.ageMs)} old (maxAge ${formatAge(f.maxAgeMs)})`;
}
