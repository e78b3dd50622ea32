import { useState } from 'react';
import type { RejectCategory, RejectedGroup } from '../api.ts';
import { CATEGORY_LABELS, n } from '../format.ts';

type Ranked = { id: string; name: string; chip?: string; count: number };

/** Where the run broke, ranked by failure category (a click filters the table below) or by the destination's code. */
export function RejectedRanking({ counts, groups, selected, onSelect }: {
  counts: Partial<Record<RejectCategory, number>>;
  groups: RejectedGroup[];
  selected: RejectCategory | undefined;
  onSelect(category: RejectCategory | undefined): void;
}) {
  const [by, setBy] = useState<'category' | 'code'>('category');
  const ranked: Ranked[] = by === 'category'
    ? (Object.entries(counts) as [RejectCategory, number][]).map(([category, count]) => ({ id: category, name: CATEGORY_LABELS[category] ?? category, chip: category, count }))
    : byCode(groups);
  const rows = ranked.filter((r) => r.count > 0).sort((a, b) => b.count - a.count);
  const total = rows.reduce((sum, r) => sum + r.count, 0);
  return (
    <section className="card" data-testid="rejected-ranking">
      <div className="trace-head">
        <h2 style={{ margin: 0 }}>Where this run broke</h2>
        <div className="tabs" style={{ margin: 0 }}>
          <button className={by === 'category' ? 'active' : ''} onClick={() => setBy('category')}>By category</button>
          <button className={by === 'code' ? 'active' : ''} onClick={() => setBy('code')}>By code</button>
        </div>
      </div>
      {rows.length === 0 ? <p className="muted">No row was rejected.</p> : (
        <div className="ranking">
          {rows.map((row, i) => {
            const active = by === 'category' && selected === row.id;
            return (
              <div key={row.id} className={`rank-row${active ? ' active' : ''}`} role={by === 'category' ? 'button' : undefined} aria-pressed={by === 'category' ? active : undefined}
                onClick={by === 'category' ? () => onSelect(active ? undefined : row.id as RejectCategory) : undefined}>
                <span className="pos">{String(i + 1).padStart(2, '0')}</span>
                <div>
                  <div className="name">{row.name} {row.chip && <span className="chip mono">{row.chip}</span>}</div>
                  <div className="bar" style={{ width: `${Math.max(3, (row.count / rows[0]!.count) * 100)}%` }} />
                </div>
                <div className="num">
                  <strong>{n(row.count)}</strong>
                  <div className="muted small">{((row.count / total) * 100).toFixed(row.count === total ? 0 : 1)}%</div>
                </div>
              </div>
            );
          })}
        </div>
      )}
    </section>
  );
}

/** Rows per destination code (summed over its messages), with the categories it fell in. */
function byCode(groups: RejectedGroup[]): Ranked[] {
  const codes = new Map<string, Ranked & { categories: Set<string> }>();
  for (const g of groups) {
    const code = g.code ?? '(no code)';
    const entry = codes.get(code) ?? { id: code, name: code, count: 0, categories: new Set<string>() };
    entry.count += g.count;
    entry.categories.add(g.category);
    codes.set(code, entry);
  }
  return [...codes.values()].map(({ categories, ...r }) => ({ ...r, chip: [...categories].join(', ') }));
}
