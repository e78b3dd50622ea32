import { useState } from 'react';
import { api, enc, type Plan, type Row } from '../api.ts';
import { duration, n, seconds } from '../format.ts';

type SampleKind = keyof Plan['samples'];

/** `lastmile plan` in the browser: what a run would send now and how long it would take. */
export function PlanPanel({ plan }: { plan: Plan }) {
  const [tab, setTab] = useState<SampleKind>(plan.samples.added.length ? 'added' : plan.samples.changed.length ? 'changed' : 'removed');
  const counts: [string, number][] = [
    ['added', plan.added], ['changed', plan.changed], ['removed', plan.removed],
    ['unchanged', plan.unchanged], ['invalid', plan.invalid], ['to sync', plan.toSync],
  ];
  const rows = plan.samples[tab];
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return (
    <div data-testid="plan">
      <div className="plan-counts">
        {counts.map(([label, value]) => (
          <div className="stat" key={label}>
            <div className="label">{label}</div>
            <div className="value">{n(value)}</div>
          </div>
        ))}
      </div>
      <p style={{ marginBottom: 0 }}>
        Estimated duration <strong data-testid="plan-estimate">{seconds(plan.estimatedSeconds)}</strong>
        <span className="muted"> · {n(plan.toSync)} rows at about {n(plan.ratePerSecond)} rows/s ({n(plan.requestsPerSecond)} requests/s × {n(plan.batchSize)} per request){plan.incremental ? ' · incremental' : ''}</span>
      </p>
      {(plan.freshness || plan.latency) && (
        <p data-testid="plan-timeliness">
          {plan.freshness && (
            <span>Newest {plan.freshness.column} {plan.freshness.ageMs === null ? 'unknown' : `${duration(plan.freshness.ageMs)} old`} (max age {duration(plan.freshness.maxAgeMs)}){' '}
              <strong style={{ color: plan.freshness.stale ? 'var(--bad)' : 'var(--ok)' }}>{plan.freshness.stale ? 'stale: a run would stop before sending' : 'fresh'}</strong></span>
          )}
          {plan.latency?.estimatedMs != null && <span> · estimated L <strong>{duration(plan.latency.estimatedMs)}</strong> (age + sync)</span>}
        </p>
      )}
      {plan.notes.length > 0 && <ul className="notes">{plan.notes.map((note) => <li key={note}>{note}</li>)}</ul>}
      <div className="tabs">
        {(['added', 'changed', 'removed'] as const).map((kind) => (
          <button key={kind} className={tab === kind ? 'active' : ''} onClick={() => setTab(kind)}>
            {kind} sample ({n(plan.samples[kind].length)})
          </button>
        ))}
      </div>
      {rows.length === 0 ? <p className="muted">Nothing {tab}.</p> : (
        <div className="scroll-x" style={{ border: '1px solid var(--line)', borderRadius: 8 }}>
          <table>
            <thead><tr>{columns.map((c) => <th key={c}>{c}</th>)}</tr></thead>
            <tbody>
              {rows.map((row, i) => (
                <tr key={i}>{columns.map((c) => <td key={c} className="mono">{show(row[c])}</td>)}</tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function show(value: Row[string] | undefined): string {
  if (value === undefined || value === null) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export async function loadPlan(sync: string): Promise<Plan> {
  return api<Plan>(`/api/syncs/${enc(sync)}/plan`);
}
