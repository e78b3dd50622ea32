import type { RunProgress } from '../engine/run-recorder.ts';
import { formatCount, formatDuration } from '../engine/trace-format.ts';
import { plural } from './plural.ts';

/**
 * The live status of a run in one line. Before the diff is known it speaks of reading and
 * diffing only (never "to sync 0"); while pushing:
 * `push  42% · 1,200 of 2,842 · 850 rows/s · 15 API calls · 2 retries · 3 split requests · about 2 s left`.
 */
export function progressLine(p: RunProgress): string {
  if (p.phase === 'read') return `reading   fetched ${formatCount(p.fetched)}`;
  if (p.phase === 'diff') return `diffing   fetched ${formatCount(p.fetched)} · comparing with the last delivered state`;
  const done = p.delivered + p.rejected + p.skipped;
  const percent = p.toSync > 0 ? Math.min(100, Math.floor((done / p.toSync) * 100)) : 100;
  const parts = [`${String(percent).padStart(3)}%`, `${formatCount(done)} of ${formatCount(p.toSync)}`];
  if (p.rowsPerSecond) parts.push(`${formatCount(p.rowsPerSecond)} rows/s`);
  parts.push(plural(p.apiCalls, 'API call'));
  if (p.rejected) parts.push(`${formatCount(p.rejected)} rejected`);
  if (p.retries) parts.push(plural(p.retries, 'retry', 'retries'));
  if (p.throttled) parts.push(`${formatCount(p.throttled)} throttled`);
  if (p.splitCalls) parts.push(plural(p.splitCalls, 'split request'));
  const left = p.toSync - done;
  if (p.phase === 'push' && left > 0 && p.rowsPerSecond > 0) parts.push(`about ${formatDuration(Math.round((left / p.rowsPerSecond) * 1000))} left`);
  return `${p.phase.padEnd(9)} ${parts.join(' · ')}`;
}
