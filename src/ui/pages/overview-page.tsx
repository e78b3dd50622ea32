import type { SyncOverview } from '../api.ts';
import { StatusBadge } from '../components/status-badge.tsx';
import { WorkersPanel } from '../components/workers-panel.tsx';
import { dateTime, duration, n, relative, typeLabel } from '../format.ts';
import { runHref, syncHref } from '../router.ts';
import { useApi } from '../use-api.ts';

/** Every sync at a glance: health, last run, next run, rows delivered; the workers, in the distributed mode. */
export function OverviewPage() {
  const { data, error } = useApi<{ syncs: SyncOverview[] }>('/api/syncs', 5000);
  const syncs = data?.syncs ?? [];
  const failing = syncs.filter((s) => s.health === 'failed').length;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Syncs</h1>
          <div className="sub">
            {data ? `${n(syncs.length)} syncs · ${n(syncs.reduce((sum, s) => sum + s.rowsDelivered, 0))} rows delivered` : 'Loading…'}
            {failing > 0 && <span className="badge failed">{n(failing)} failing</span>}
          </div>
        </div>
      </div>
      {error && <div className="error">{error}</div>}
      <section className="card flush">
        <table data-testid="sync-table">
          <thead>
            <tr>
              <th>Sync</th><th>Status</th><th>Last run</th><th>Next run</th>
              <th className="num">Last run delivered</th><th className="num">Rows delivered</th>
            </tr>
          </thead>
          <tbody>
            {syncs.map((sync) => (
              <tr key={sync.name} className="clickable" onClick={() => { window.location.hash = syncHref(sync.name); }}>
                <td>
                  <a href={syncHref(sync.name)} onClick={(e) => e.stopPropagation()}><strong>{sync.name}</strong></a>
                  <div className="muted small">
                    {typeLabel(sync.sourceType)} · {sync.model} → {typeLabel(sync.destinationType)} · {sync.destination} <span className="chip">{sync.mode}</span>
                  </div>
                </td>
                <td><StatusBadge status={sync.running ? 'running' : sync.health} />{sync.pausedAt && <> <span className="badge paused" title={`paused ${dateTime(sync.pausedAt)}`}>paused</span></>}</td>
                <td>
                  {sync.lastRun ? (
                    <>
                      <a href={runHref(sync.lastRun.runId)} onClick={(e) => e.stopPropagation()} title={dateTime(sync.lastRun.startedAt)}>{relative(sync.lastRun.startedAt)}</a>
                      <div className="muted small">{sync.lastRun.status === 'running' ? 'in progress' : `took ${duration(sync.lastRun.durationMs)}`}</div>
                    </>
                  ) : <span className="muted">never</span>}
                </td>
                <td>
                  {sync.nextRunAt ? <span title={dateTime(sync.nextRunAt)}>{relative(sync.nextRunAt)}</span>
                    : <span className="muted">{sync.after.length ? `after ${sync.after.join(', ')}` : 'manual'}</span>}
                  <div className="muted small">{sync.schedule ?? ''}</div>
                </td>
                <td className="num">{sync.lastRun ? n(sync.lastRun.delivered) : '—'}
                  {sync.lastRun && sync.lastRun.rejected > 0 && <div className="small" style={{ color: 'var(--bad)' }}>{n(sync.lastRun.rejected)} rejected</div>}
                </td>
                <td className="num">{n(sync.rowsDelivered)}</td>
              </tr>
            ))}
            {data && syncs.length === 0 && <tr><td colSpan={6} className="empty">This project has no sync yet: add one under <code>syncs:</code> in lastmile.yml.</td></tr>}
          </tbody>
        </table>
      </section>
      <WorkersPanel />
    </>
  );
}
