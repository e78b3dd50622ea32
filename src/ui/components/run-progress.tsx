import type { RunProgress, RunSummary } from '../api.ts';
import { n } from '../format.ts';

const PHASES: RunProgress['phase'][] = ['read', 'diff', 'push', 'finalize'];
const ENDED: Record<string, string> = { failed: 'Failed', cancelled: 'Cancelled', abandoned: 'Abandoned (found dead)' };

/** Live counts of a run in progress, and how it ended. */
export function RunProgressView({ progress, summary }: { progress: RunProgress | null; summary: RunSummary }) {
  const finished = summary.status !== 'running';
  const phase = finished ? 'finalize' : progress?.phase ?? 'read';
  const toSync = progress?.toSync ?? summary.toSync ?? summary.delivered + summary.rejected;
  const done = finished ? toSync : (progress?.delivered ?? 0) + (progress?.rejected ?? 0) + (progress?.skipped ?? 0);
  const share = finished ? 1 : toSync > 0 ? done / toSync : 0;
  return (
    <div className="progress" data-testid="run-progress" data-state={finished ? summary.status : 'running'}>
      <div className="phases">
        {PHASES.map((p, i) => (
          <span key={p} className={`phase${p === phase && !finished ? ' active' : ''}${PHASES.indexOf(phase) > i || finished ? ' done' : ''}`}>{i + 1}. {p}</span>
        ))}
      </div>
      <div className="track"><div className={`fill${finished ? (summary.status === 'failed' || summary.status === 'abandoned' ? ' failed' : ' done') : ''}`} style={{ width: `${Math.round(share * 100)}%` }} /></div>
      <div className="muted">
        {finished
          ? `${ENDED[summary.status] ?? 'Finished'}: ${n(summary.delivered)} delivered, ${n(summary.rejected)} rejected, ${n(summary.deferred ?? 0)} deferred, ${n(summary.skipped ?? 0)} skipped of ${n(toSync)} to sync (${n(summary.fetched)} rows read)`
          : `${n(progress?.fetched ?? 0)} read · ${n(done)} of ${n(toSync)} sent · ${n(progress?.delivered ?? 0)} delivered · ${n(progress?.rejected ?? 0)} rejected${progress?.rowsPerSecond ? ` · ${n(progress.rowsPerSecond)} rows/s` : ''}`}
      </div>
      {summary.error && <div className="error">{summary.error}</div>}
    </div>
  );
}
