import { useState } from 'react';
import { enc, type RejectCategory, type RunDetail } from '../api.ts';
import { ProfileCard } from '../components/profile-card.tsx';
import { RejectedRanking } from '../components/rejected-ranking.tsx';
import { RejectedTable } from '../components/rejected-table.tsx';
import { RejectedGroups } from '../components/rejected-groups.tsx';
import { RunProgressView } from '../components/run-progress.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TraceView } from '../components/trace-view.tsx';
import { TimelinessCard } from '../components/timeliness-card.tsx';
import { dateTime, duration, n } from '../format.ts';
import { syncHref } from '../router.ts';
import { useApi } from '../use-api.ts';
import { TRIGGER_LABELS } from '../components/trigger-labels.ts';

/** One run: its counts, trace, profile, and the rows the destination refused, ranked and listed. */
export function RunPage({ runId }: { runId: string }) {
  const [live, setLive] = useState(true);
  const { data, error } = useApi<RunDetail>(`/api/runs/${enc(runId)}`, live ? 1000 : undefined);
  const [category, setCategory] = useState<RejectCategory | undefined>();
  if (data && live && data.summary.status !== 'running') setLive(false);
  if (error) return <div className="error">{error}</div>;
  if (!data) return <p className="muted">Loading…</p>;
  const { summary: s, profile, trace, rejectedByCategory, rejectedGroups, progress } = data;
  const stats: [string, string, string?][] = [
    ['fetched', n(s.fetched)],
    ['added', n(s.added)], ['changed', n(s.changed)], ['removed', n(s.removed)], ['unchanged', n(s.unchanged)],
    ['to sync', n(s.toSync ?? 0)],
    ['delivered', n(s.delivered), 'ok'], ['rejected', n(s.rejected), s.rejected ? 'bad' : undefined],
    ['of them retried next run', n(s.rejectedRetryable ?? 0)],
    ['deferred', n(s.deferred ?? 0), s.deferred ? 'warn' : undefined], ['skipped', n(s.skipped ?? 0)],
    ['API calls', n(s.apiCalls)], ['retries', n(s.retries)], ['throttled', n(s.throttled)],
    ['duration', s.status === 'running' ? '—' : duration(s.durationMs)],
  ];
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Run <span className="mono" style={{ fontSize: 18 }}>{s.runId}</span> <StatusBadge status={s.status} /></h1>
          <div className="sub">
            <span>sync <a href={syncHref(s.sync)}>{s.sync}</a></span>
            <span>started {dateTime(s.startedAt)}</span>
            {s.finishedAt && <span>finished {dateTime(s.finishedAt)}</span>}
            {s.dryRun && <span className="chip">dry run</span>}
            {(s.trigger ?? profile?.trigger) && <span>triggered by {TRIGGER_LABELS[(s.trigger ?? profile?.trigger)!]}</span>}
          </div>
        </div>
      </div>
      {s.status === 'running' && <section className="card"><h2>In progress</h2><RunProgressView progress={progress} summary={s} /></section>}
      {s.error && <div className="error"><strong>The run failed:</strong> {s.error}</div>}
      <div className="stats" data-testid="run-stats">
        {stats.map(([label, value, tone]) => (
          <div className="stat" key={label}><div className="label">{label}</div><div className={`value ${tone ?? ''}`}>{value}</div></div>
        ))}
      </div>
      <TimelinessCard summary={s} />
      <section className="card">
        <div className="trace-head"><h2 style={{ margin: 0 }}>Trace</h2><span className="muted small">{n(trace.length)} {trace.length === 1 ? 'line' : 'lines'}</span></div>
        <TraceView lines={trace} source={profile?.source} />
      </section>
      <div className="grid-2e">
        <ProfileCard profile={profile} summary={s} />
        <RejectedRanking counts={rejectedByCategory} groups={rejectedGroups} selected={category} onSelect={setCategory} />
      </div>
      {rejectedGroups.length > 0 && (
        <section className="card flush">
          <h2>Rejected rows by code and message</h2>
          <RejectedGroups groups={category ? rejectedGroups.filter((g) => g.category === category) : rejectedGroups} />
        </section>
      )}
      <RejectedTable runId={s.runId} category={category} onCategory={setCategory} total={s.rejected} />
    </>
  );
}
