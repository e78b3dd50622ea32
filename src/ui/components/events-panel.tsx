import { enc } from '../api.ts';
import { dateTime, n } from '../format.ts';
import { useApi } from '../use-api.ts';

interface EventOutcome { id: string; key: string; status: string; reason?: string; category?: string; settledAt?: string }
interface EventsSummary {
  open: boolean; queued: number; inFlight: number; queueSize?: number;
  counts: Partial<Record<'delivered' | 'unchanged' | 'superseded' | 'rejected', number>>;
  latencyMs: { samples?: number; p50?: number | null; p95?: number | null; p99?: number | null };
  rejected: EventOutcome[];
}

/** Rows pushed through POST …/events: how they ended, their latency, the latest rejections with the destination's reason. */
export function EventsPanel({ sync }: { sync: string }) {
  const { data } = useApi<EventsSummary>(`/api/syncs/${enc(sync)}/events`, 2000);
  if (!data?.open) return null;
  const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${n(v)} ms`);
  return (
    <section className="card" data-testid="events-panel">
      <h2>Events <span className="muted small">· rows pushed through the API or NATS</span></h2>
      <div className="sub">
        <span>{n(data.counts.delivered ?? 0)} delivered</span>
        <span>{n(data.counts.unchanged ?? 0)} unchanged</span>
        <span>{n(data.counts.superseded ?? 0)} superseded</span>
        <span style={data.counts.rejected ? { color: 'var(--bad)' } : undefined}>{n(data.counts.rejected ?? 0)} rejected</span>
        <span>{n(data.queued)} waiting, {n(data.inFlight)} in flight{data.queueSize ? ` (queue ${n(data.queueSize)})` : ''}</span>
        <span>latency p50 {ms(data.latencyMs.p50)} · p95 {ms(data.latencyMs.p95)} · p99 {ms(data.latencyMs.p99)}</span>
      </div>
      {data.rejected.length > 0 && (
        <table>
          <thead><tr><th>Settled</th><th>Key</th><th>Category</th><th>Reason</th></tr></thead>
          <tbody>
            {data.rejected.map((e) => (
              <tr key={e.id}><td>{e.settledAt ? dateTime(e.settledAt) : ''}</td><td className="mono">{e.key}</td><td>{e.category ?? ''}</td><td>{e.reason ?? ''}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
