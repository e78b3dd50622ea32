import type { RejectCategory } from '../api.ts';
import { CATEGORY_LABELS, n } from '../format.ts';

/** Failure categories ranked by how many rows each rejected; a click filters the table below. */
export function RejectedRanking({ counts, selected, onSelect }: {
  counts: Partial<Record<RejectCategory, number>>;
  selected: RejectCategory | undefined;
  onSelect(category: RejectCategory | undefined): void;
}) {
  const ranked = (Object.entries(counts) as [RejectCategory, number][]).filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1]);
  const total = ranked.reduce((sum, [, c]) => sum + c, 0);
  return (
    <section className="card" data-testid="rejected-ranking">
      <h2>Where this run broke</h2>
      {ranked.length === 0 ? <p className="muted">No row was rejected.</p> : (
        <div className="ranking">
          {ranked.map(([category, count], i) => (
            <div key={category} className={`rank-row${selected === category ? ' active' : ''}`}
              onClick={() => onSelect(selected === category ? undefined : category)} role="button" aria-pressed={selected === category}>
              <span className="pos">{String(i + 1).padStart(2, '0')}</span>
              <div>
                <div className="name">{CATEGORY_LABELS[category] ?? category} <span className="chip mono">{category}</span></div>
                <div className="bar" style={{ width: `${Math.max(3, (count / ranked[0]![1]) * 100)}%` }} />
              </div>
              <div className="num">
                <strong>{n(count)}</strong>
                <div className="muted small">{((count / total) * 100).toFixed(count === total ? 0 : 1)}%</div>
              </div>
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
