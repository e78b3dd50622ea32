import type { RunSummary } from '../api.ts';
import { dateTime, duration, n } from '../format.ts';

/**
 * A run's timeliness: how old the model's newest row was (its freshness) and the end-to-end
 * latency L of the rows it delivered, split as the reference page does (warehouse load + sync).
 */
export function TimelinessCard({ summary: s }: { summary: RunSummary }) {
  const f = s.freshness;
  const l = s.latency;
  if (!f && !l) return null;
  return (
    <section className="card" data-testid="timeliness">
      <h2>Freshness and latency</h2>
      <div className="stats">
        {f && (
          <>
            <div className="stat"><div className="label">newest {f.column}</div><div className="value" title={f.newestAt ? dateTime(f.newestAt) : undefined}>{f.newestAt ? new Date(f.newestAt).toLocaleTimeString('en-GB') : 'no row'}</div></div>
            <div className="stat">
              <div className="label">age of newest row</div>
              <div className={`value ${f.stale ? 'bad' : 'ok'}`}>{f.ageMs === null ? '—' : duration(f.ageMs)}</div>
            </div>
            <div className="stat"><div className="label">max age</div><div className="value">{duration(f.maxAgeMs)}</div></div>
            <div className="stat"><div className="label">freshness</div><div className={`value ${f.stale ? 'bad' : 'ok'}`}>{f.stale ? 'stale' : 'fresh'}</div></div>
            {f.held ? <div className="stat"><div className="label">held back (stale rows)</div><div className="value warn">{n(f.held)}</div></div> : null}
          </>
        )}
        {l && (
          <>
            <div className="stat"><div className="label">L p50</div><div className="value">{duration(l.p50Ms)}</div></div>
            <div className="stat"><div className="label">L p95</div><div className="value">{duration(l.p95Ms)}</div></div>
            <div className="stat"><div className="label">L max</div><div className="value">{duration(l.maxMs)}</div></div>
            <div className="stat"><div className="label">warehouse load p95</div><div className="value">{duration(l.warehouseLoad.p95Ms)}</div></div>
            <div className="stat"><div className="label">sync p95</div><div className="value">{duration(l.sync.p95Ms)}</div></div>
          </>
        )}
      </div>
      {l && <p className="muted small" style={{ marginBottom: 0 }}>L = event time → acknowledged by the destination, over {n(l.rows)} delivered rows; warehouse load = event time → this run's read; sync = read → acknowledged.</p>}
    </section>
  );
}
