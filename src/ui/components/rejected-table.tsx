import { useEffect, useState } from 'react';
import { enc, type RejectCategory, type RejectedPage } from '../api.ts';
import { CsvButton } from './csv-button.tsx';
import { Pager } from './pager.tsx';
import { SentValues } from './sent-values.tsx';
import { CATEGORY_LABELS, dateTime } from '../format.ts';
import { useApi } from '../use-api.ts';

const PAGE = 50;

/** The rejected rows of a run: key, the values sent, field, the destination's code and message; filtered and paged. */
export function RejectedTable({ runId, category, onCategory, total }: {
  runId: string;
  category: RejectCategory | undefined;
  onCategory(category: RejectCategory | undefined): void;
  total: number;
}) {
  const [offset, setOffset] = useState(0);
  useEffect(() => setOffset(0), [category, runId]);
  const query = new URLSearchParams({ offset: String(offset), limit: String(PAGE), ...(category ? { category } : {}) });
  const { data, error } = useApi<RejectedPage>(total > 0 ? `/api/runs/${enc(runId)}/rejected?${query}` : null);
  if (total === 0) return null;
  return (
    <section className="card flush" data-testid="rejected-table">
      <div className="trace-head" style={{ padding: '16px 20px 4px' }}>
        <h2 style={{ margin: 0, padding: 0 }}>Rejected rows</h2>
        <div className="filters">
          <label className="muted small" htmlFor="category">Category</label>
          <select id="category" value={category ?? ''} onChange={(e) => onCategory((e.target.value || undefined) as RejectCategory | undefined)}>
            <option value="">All categories</option>
            {Object.keys(CATEGORY_LABELS).map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
          <CsvButton path={`/api/runs/${enc(runId)}/rejected.csv`} file={`${runId}-rejected.csv`} />
        </div>
      </div>

      {error && <div className="error" style={{ margin: 16 }}>{error}</div>}
      <div className="scroll-x">
        <table>
          <thead>
            <tr><th>Key</th><th>Sent</th><th>Category</th><th>Field</th><th>Code</th><th>Message</th><th>Retry</th><th>At</th></tr>
          </thead>
          <tbody>
            {data?.rows.map((row, i) => (
              <tr key={`${row.key}-${i}`}>
                <td className="mono" style={{ whiteSpace: 'nowrap' }}>{row.key}</td>
                <td><SentValues sent={row.sent} /></td>
                <td><span className="chip mono">{row.category}</span></td>
                <td className="mono">{row.field ?? <span className="muted">—</span>}</td>
                <td>{row.code ? <span className="code">{row.code}</span> : <span className="muted">—</span>}</td>
                <td>{row.message}</td>
                <td className="small">{row.retryable ? 'next run' : 'when the row changes'}</td>
                <td className="small muted" style={{ whiteSpace: 'nowrap' }}>{dateTime(row.at)}</td>
              </tr>
            ))}
            {data && data.rows.length === 0 && <tr><td colSpan={8} className="empty">No rejected row in this category.</td></tr>}
          </tbody>
        </table>
      </div>
      {data && <Pager offset={offset} shown={data.rows.length} total={data.total} size={PAGE} onOffset={setOffset} />}
    </section>
  );
}
