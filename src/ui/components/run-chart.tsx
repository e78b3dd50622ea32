import type { RunSummary } from '../api.ts';
import { duration, n } from '../format.ts';

const W = 1160;
const H = 230;
const PAD = { left: 64, right: 64, top: 14, bottom: 28 };

/** Rows delivered and rejected per run (bars), and run duration (line), oldest on the left. */
export function RunChart({ runs }: { runs: RunSummary[] }) {
  const points = runs.filter((r) => r.status !== 'running' && !r.dryRun).slice(0, 30).reverse();
  if (points.length === 0) return <section className="card chart"><h2>Rows and duration</h2><p className="muted">No finished run yet.</p></section>;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const maxRows = Math.max(1, ...points.map((r) => r.delivered + r.rejected));
  const maxMs = Math.max(1, ...points.map((r) => r.durationMs));
  const step = innerW / points.length;
  const barW = Math.max(3, Math.min(36, step * 0.6));
  const x = (i: number) => PAD.left + step * i + step / 2;
  const yRows = (v: number) => PAD.top + innerH - (v / maxRows) * innerH;
  const yMs = (v: number) => PAD.top + innerH - (v / maxMs) * innerH;
  const line = points.map((r, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${yMs(r.durationMs).toFixed(1)}`).join(' ');
  const label = (iso: string) => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return (
    <section className="card chart" data-testid="run-chart">
      <div className="trace-head">
        <h2 style={{ margin: 0 }}>Rows and duration{points.length > 1 ? `, last ${points.length} runs` : ', last run'}</h2>
        <div className="legend">
          <span><i style={{ background: 'var(--ok)' }} />delivered</span>
          <span><i style={{ background: 'var(--bad)' }} />rejected</span>
          <span><i style={{ background: 'var(--accent)', height: 3 }} />duration</span>
        </div>
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="rows per run and run duration">
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={PAD.top + innerH * (1 - f)} y2={PAD.top + innerH * (1 - f)} />
            <text x={PAD.left - 6} y={PAD.top + innerH * (1 - f) + 4} textAnchor="end">{n(Math.round(maxRows * f))}</text>
            <text x={W - PAD.right + 6} y={PAD.top + innerH * (1 - f) + 4} textAnchor="start">{duration(Math.round(maxMs * f))}</text>
          </g>
        ))}
        {points.map((r, i) => (
          <g key={r.runId}>
            <title>{`${r.runId}: ${n(r.delivered)} delivered, ${n(r.rejected)} rejected, ${duration(r.durationMs)}`}</title>
            <rect x={x(i) - barW / 2} y={yRows(r.delivered)} width={barW} height={innerH + PAD.top - yRows(r.delivered)} fill="var(--ok)" rx={2} />
            <rect x={x(i) - barW / 2} y={yRows(r.delivered + r.rejected)} width={barW} height={yRows(r.delivered) - yRows(r.delivered + r.rejected)} fill="var(--bad)" rx={2} />
          </g>
        ))}
        <path d={line} fill="none" stroke="var(--accent)" strokeWidth={2} />
        {points.map((r, i) => <circle key={r.runId} cx={x(i)} cy={yMs(r.durationMs)} r={3} fill="var(--accent)" />)}
        <text x={x(0)} y={H - 8} textAnchor="middle">{label(points[0]!.startedAt)}</text>
        {points.length > 1 && <text x={x(points.length - 1)} y={H - 8} textAnchor="middle">{label(points[points.length - 1]!.startedAt)}</text>}
      </svg>
    </section>
  );
}
