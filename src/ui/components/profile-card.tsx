import type { RunProfile, RunSummary } from '../api.ts';
import { duration, n, typeLabel } from '../format.ts';

/** The "Sync Job Profile" card: what the run connected and what it cost. */
export function ProfileCard({ profile, summary }: { profile: RunProfile | null; summary: RunSummary }) {
  const rows: [string, string][] = [
    ['source', profile ? `${typeLabel(profile.sourceType)} · ${profile.model}` : '—'],
    ['destination', profile ? `${typeLabel(profile.destinationType)} · ${profile.destination}` : '—'],
    ['sync_mode', profile?.syncModeLabel ?? '—'],
    ['records_processed', n(summary.fetched)],
    ['api_calls_made', n(summary.apiCalls)],
    ['rejected_records', n(summary.rejected)],
    ['latency', summary.status === 'running' ? '—' : duration(summary.durationMs)],
  ];
  return (
    <section className="card profile" data-testid="profile-card">
      <h2>Sync Job Profile</h2>
      <p className="muted small" style={{ marginTop: -6 }}>
        {profile ? `Triggered by ${profile.trigger === 'api' ? 'the API' : profile.trigger === 'schedule' ? 'the schedule' : 'the CLI'}.` : ''}
      </p>
      <dl>
        {rows.map(([label, value]) => (
          <div key={label} style={{ display: 'contents' }}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
