import type { RunSummary } from '../api.ts';
import { duration } from '../format.ts';

const W = 1160;
const H = 200;
const PAD = { left: 72, right: 24, top: 14, bottom: 28 };
const SERIES = [
  { key: 'p95', label: 'L p95', color: 'var(--bad)', of: (r: RunSummary) => r.latency?.p95Ms },
  { key: 'p50', label: 'L p50', color: 'var(--accent)', of: (r: RunSummary) => r.latency?.p50Ms },
  { key: 'age', label: 'age of newest row', color: 'var(--muted)', of: (r: RunSummary) => r.freshness?.ageMs ?? undefined },
] as const;

/** End-to-end latency L (p50, p95) and the newest row's age per run, oldest on the left. */
export function LatencyChart({ runs }: { runs: RunSummary[] }) {
  const points = runs.filter((r) => r.status !== 'running' && !r.dryRun && (r.latency || r.freshness)).slice(0, 30).reverse();
  if (points.length === 0) return null;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const maxMs = Math.max(1, ...points.flatMap((r) => SERIES.map((s) => s.of(r) ?? 0)));
  const step = innerW / points.length;
  const x = (i: number) => PAD.left + step * i + step / 2;
  const y = (v: number) => PAD.top + innerH - (v / maxMs) * innerH;
  const label = (iso: string) => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  return (
    <section className="card chart" data-testid="latency-chart">
      <div className="trace-head">
        <h2 style={{ margin: 0 }}>End-to-end latency L{points.length > 1 ? `, last ${points.length} runs` : ', last run'}</h2>
        <div className="legend">{SERIES.map((s) => <span key={s.key}><i style={{ background: s.color, height: 3 }} />{s.label}</span>)}</div>
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label="end-to-end latency per run">
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line className="axis" x1={PAD.left} x2={W - PAD.right} y1={PAD.top + innerH * (1 - f)} y2={PAD.top + innerH * (1 - f)} />
            <text x={PAD.left - 6} y={PAD.top + innerH * (1 - f) + 4} textAnchor="end">{duration(Math.round(maxMs * f))}</text>
          </g>
        ))}
        {SERIES.map((s) => {
          const known = points.map((r, i) => [i, s.of(r)] as const).filter((p): p is readonly [number, number] => p[1] !== undefined);
          if (known.length === 0) return null;
          const d = known.map(([i, v], k) => `${k === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
          return (
            <g key={s.key} data-series={s.key}>
              <path d={d} fill="none" stroke={s.color} strokeWidth={2} />
              {known.map(([i, v]) => (
                <circle key={points[i]!.runId} cx={x(i)} cy={y(v)} r={3} fill={s.color}><title>{`${points[i]!.runId}: ${s.label} ${duration(v)}`}</title></circle>
              ))}
            </g>
          );
        })}
        <text x={x(0)} y={H - 8} textAnchor="middle">{label(points[0]!.startedAt)}</text>
        {points.length > 1 && <text x={x(points.length - 1)} y={H - 8} textAnchor="middle">{label(points[points.length - 1]!.startedAt)}</text>}
      </svg>
    </section>
  );
}
