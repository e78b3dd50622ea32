import { useEffect, useState } from 'react';
import { api, enc, type Plan, type RunDetail, type RunSummary, type SyncOverview } from '../api.ts';
import { PlanPanel, loadPlan } from '../components/plan-panel.tsx';
import { EventsPanel } from '../components/events-panel.tsx';
import { TestRowPanel } from '../components/test-row-panel.tsx';
import { RunChart } from '../components/run-chart.tsx';
import { LatencyChart } from '../components/latency-chart.tsx';
import { RunProgressView } from '../components/run-progress.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { dateTime, duration, n, relative, typeLabel } from '../format.ts';
import { runHref } from '../router.ts';
import { useApi } from '../use-api.ts';
import { SyncDefinitionCard } from '../components/sync-definition-card.tsx';
import { PauseButton } from '../components/pause-button.tsx';
import { CurrentRejectedPanel } from '../components/current-rejected-panel.tsx';
import { TRIGGER_LABELS } from '../components/trigger-labels.ts';

/** One sync: what it connects, its plan, "Run now" with live progress, and its run history. */
export function SyncPage({ sync }: { sync: string }) {
  const overview = useApi<SyncOverview>(`/api/syncs/${enc(sync)}`, 5000);
  const history = useApi<{ runs: RunSummary[] }>(`/api/syncs/${enc(sync)}/runs?limit=50`, 5000);
  const [plan, setPlan] = useState<{ loading?: boolean; value?: Plan; error?: string }>({});
  const [run, setRun] = useState<{ runId?: string; detail?: RunDetail; error?: string }>({});
  const [finishedRuns, setFinishedRuns] = useState(0);

  // Polls the run started here until it ends, then refreshes the page's numbers.
  useEffect(() => {
    if (!run.runId) return;
    let stop = false;
    const tick = async () => {
      try {
        const detail = await api<RunDetail>(`/api/runs/${enc(run.runId!)}`);
        if (stop) return;
        setRun((r) => ({ ...r, detail }));
        if (detail.summary.status !== 'running') {
          setPlan({}); // the plan was of the state before this run
          setFinishedRuns((count) => count + 1);
          void history.reload();
          void overview.reload();
          return;
        }
      } catch (e) {
        if (!stop) setRun((r) => ({ ...r, error: (e as Error).message }));
      }
      if (!stop) setTimeout(tick, 400);
    };
    void tick();
    return () => { stop = true; };
  }, [run.runId]);

  const preview = async () => {
    setPlan({ loading: true });
    try {
      setPlan({ value: await loadPlan(sync) });
    } catch (e) {
      setPlan({ error: (e as Error).message });
    }
  };
  const runNow = async () => {
    setRun({});
    try {
      const { runId } = await api<{ runId: string }>(`/api/syncs/${enc(sync)}/runs`, { method: 'POST', body: '{}' });
      setRun({ runId });
    } catch (e) {
      setRun({ error: (e as Error).message });
    }
  };

  const o = overview.data;
  const running = run.detail ? run.detail.summary.status === 'running' : Boolean(run.runId) || Boolean(o?.running);
  return (
    <>
      <div className="page-head">
        <div>
          <h1>{sync} {o && <StatusBadge status={running ? 'running' : o.health} />} {o?.pausedAt && <span className="badge paused" title={`paused ${dateTime(o.pausedAt)}`}>paused</span>}</h1>
          {o && (
            <div className="sub">
              <span>{typeLabel(o.sourceType)} · {o.model} → {typeLabel(o.destinationType)} · {o.destination}</span>
              <span className="chip">{o.mode}</span>
              <span>{o.schedule ?? (o.after.length ? `after ${o.after.join(', ')}` : 'manual')}</span>
              {o.nextRunAt && <span title={dateTime(o.nextRunAt)}>next run {relative(o.nextRunAt)}</span>}
              <span>{n(o.rowsDelivered)} rows delivered</span>
            </div>
          )}
        </div>
        <div className="actions">
          <button onClick={preview} disabled={plan.loading}>{plan.loading ? 'Planning…' : 'Preview plan'}</button>
          {o && <PauseButton sync={sync} pausedAt={o.pausedAt} onChange={() => void overview.reload()} />}
          <button className="primary" onClick={runNow} disabled={running || Boolean(o?.pausedAt)} title={o?.pausedAt ? 'the sync is paused: resume it to run it' : undefined}>{running ? 'Running…' : 'Run now'}</button>
        </div>
      </div>
      {overview.error && <div className="error">{overview.error}</div>}

      {(run.runId || run.error) && (
        <section className="card">
          <div className="trace-head">
            <h2 style={{ margin: 0 }}>Run {run.runId && <a href={runHref(run.runId)} className="mono">{run.runId}</a>}</h2>
            {run.detail && <StatusBadge status={run.detail.summary.status} />}
          </div>
          {run.error && <div className="error">{run.error}</div>}
          {run.detail && <RunProgressView progress={run.detail.progress} summary={run.detail.summary} />}
        </section>
      )}

      {(plan.value || plan.error || plan.loading) && (
        <section className="card">
          <h2>Plan preview <span className="muted small">· nothing is written</span></h2>
          {plan.loading && <p className="muted">Reading the model and diffing it against state…</p>}
          {plan.error && <div className="error">{plan.error}</div>}
          {plan.value && <PlanPanel plan={plan.value} />}
        </section>
      )}

      <CurrentRejectedPanel sync={sync} version={finishedRuns} onRun={(runId) => setRun({ runId })} />

      <SyncDefinitionCard sync={sync} />

      <EventsPanel sync={sync} />
      <TestRowPanel sync={sync} destination={o?.destination} />

      <RunChart runs={history.data?.runs ?? []} />
      <LatencyChart runs={history.data?.runs ?? []} />

      <section className="card flush">
        <h2>Run history</h2>
        <table data-testid="run-history">
          <thead>
            <tr>
              <th>Started</th><th>Status</th><th>Trigger</th><th className="num">Duration</th><th className="num">Fetched</th>
              <th className="num">Changes</th><th className="num">Delivered</th><th className="num">Rejected</th><th className="num">API calls</th><th className="num">L p95</th>
            </tr>
          </thead>
          <tbody>
            {history.data?.runs.map((r) => (
              <tr key={r.runId} className="clickable" onClick={() => { window.location.hash = runHref(r.runId); }}>
                <td><a href={runHref(r.runId)} title={r.runId}>{dateTime(r.startedAt)}</a>{r.dryRun && <span className="chip" style={{ marginLeft: 6 }}>dry run</span>}</td>
                <td><StatusBadge status={r.status} /></td>
                <td className="small">{r.trigger ? TRIGGER_LABELS[r.trigger] : '—'}</td>
                <td className="num">{r.status === 'running' ? '—' : duration(r.durationMs)}</td>
                <td className="num">{n(r.fetched)}</td>
                <td className="num">{n(r.added + r.changed + r.removed)}</td>
                <td className="num">{n(r.delivered)}</td>
                <td className="num" style={r.rejected ? { color: 'var(--bad)' } : undefined}>{n(r.rejected)}</td>
                <td className="num">{n(r.apiCalls)}</td>
                <td className="num" style={r.freshness?.stale ? { color: 'var(--bad)' } : undefined} title={r.freshness?.stale ? 'the model was stale' : undefined}>
                  {r.latency ? duration(r.latency.p95Ms) : r.freshness?.stale ? 'stale' : '—'}
                </td>
              </tr>
            ))}
            {history.data && history.data.runs.length === 0 && <tr><td colSpan={10} className="empty">No run yet. Preview the plan, then press “Run now”.</td></tr>}
          </tbody>
        </table>
      </section>
    </>
  );
}
