import { useState } from 'react';
import { api, enc, type CurrentRejected } from '../api.ts';
import { dateTime, n } from '../format.ts';
import { runHref } from '../router.ts';
import { useApi } from '../use-api.ts';
import { CsvButton } from './csv-button.tsx';
import { Pager } from './pager.tsx';
import { RejectedGroups } from './rejected-groups.tsx';
import { SentValues } from './sent-values.tsx';

const PAGE = 50;

/**
 * The rows this sync rejects now, over all its runs: grouped by code and message, then row by row
 * with the values sent; "Retry rejected rows" sends them again (a run with --retry-rejected).
 */
export function CurrentRejectedPanel({ sync, version, onRun }: { sync: string; version: number; onRun(runId: string): void }) {
  const [offset, setOffset] = useState(0);
  const [retry, setRetry] = useState<{ busy?: boolean; error?: string }>({});
  const { data, error } = useApi<CurrentRejected>(`/api/syncs/${enc(sync)}/rejected?offset=${offset}&limit=${PAGE}&v=${version}`);
  if (error) return <div className="error">{error}</div>;
  if (!data || data.total === 0) return null;
  const retryNow = async () => {
    setRetry({ busy: true });
    try {
      const { runId } = await api<{ runId: string }>(`/api/syncs/${enc(sync)}/rejected/retry`, { method: 'POST', body: '{}' });
      setRetry({});
      onRun(runId);
    } catch (e) {
      setRetry({ error: (e as Error).message });
    }
  };
  return (
    <section className="card flush" data-testid="current-rejected">
      <div className="trace-head" style={{ padding: '16px 20px 4px' }}>
        <h2 style={{ margin: 0, padding: 0 }}>Rejected now <span className="muted small">· {n(data.total)} {data.total === 1 ? 'row' : 'rows'} over all runs</span></h2>
        <div className="actions">
          <CsvButton path={`/api/syncs/${enc(sync)}/rejected.csv`} file={`${sync}-rejected.csv`} />
          <button className="primary" onClick={retryNow} disabled={retry.busy}>{retry.busy ? 'Starting…' : 'Retry rejected rows'}</button>
        </div>
      </div>
      {retry.error && <div className="error" style={{ margin: '8px 20px' }}>{retry.error}</div>}
      <RejectedGroups groups={data.groups} />
      <div className="scroll-x">
        <table data-testid="current-rejected-rows">
          <thead><tr><th>Key</th><th>Sent</th><th>Code</th><th>Message</th><th>Retry</th><th>Run</th></tr></thead>
          <tbody>
            {data.rows.map((row) => (
              <tr key={row.key}>
                <td className="mono" style={{ whiteSpace: 'nowrap' }}>{row.key}</td>
                <td><SentValues sent={row.sent} /></td>
                <td>{row.code ? <span className="code">{row.code}</span> : <span className="muted">—</span>}</td>
                <td>{row.message}{row.field && <div className="muted small">field <span className="mono">{row.field}</span></div>}</td>
                <td className="small">{row.retryable ? 'next run' : 'when the row changes'}</td>
                <td className="small"><a href={runHref(row.runId)} title={row.runId}>{dateTime(row.at)}</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager offset={offset} shown={data.rows.length} total={data.total} size={PAGE} onOffset={setOffset} />
    </section>
  );
}
