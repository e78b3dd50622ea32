import type { InspectedRequest } from '../../delivery/request-inspector.ts';
import { dateTime, n } from '../format.ts';

export type { InspectedRequest };

/** Bodies are one long JSON line more often than not: wrapped, so the whole excerpt is on screen. */
const WRAP = { whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' } as const;

/** Requests a destination was sent and its answers: one row each, headers and bodies under "details". */
export function RequestList({ requests, empty }: { requests: InspectedRequest[]; empty: string }) {
  return (
    <table data-testid="request-list">
      <thead>
        <tr><th>Sent</th><th>Request</th><th className="num">Status</th><th className="num">Time</th><th>Bodies</th></tr>
      </thead>
      <tbody>
        {requests.map((r, i) => (
          <tr key={`${r.at}-${i}`}>
            <td className="small">{dateTime(r.at)}</td>
            <td className="mono" style={{ wordBreak: 'break-all' }}>{r.method} {r.url}</td>
            <td className="num">{r.status !== undefined
              ? <span className={r.status >= 400 ? 'code' : 'chip'}>{r.status}</span>
              : r.error ? <span className="code" title={r.error}>failed</span> : <span className="chip" title="not HTTP: a SQL or queue write">done</span>}</td>
            <td className="num">{n(r.ms)} ms</td>
            <td style={{ maxWidth: 520 }}>
              {r.error && <div className="small" style={{ color: 'var(--bad)' }}>{r.error}</div>}
              <details>
                <summary className="small">headers, request and answer</summary>
                {r.requestHeaders && <pre className="trace small">{Object.entries(r.requestHeaders).map(([name, value]) => `${name}: ${value}`).join('\n')}</pre>}
                <div className="small muted">sent</div>
                <pre className="trace small" style={WRAP} data-testid="request-body">{r.requestBody ?? '(no body)'}</pre>
                <div className="small muted">answered</div>
                <pre className="trace small" style={WRAP} data-testid="response-body">{r.responseBody ?? '(no body)'}</pre>
              </details>
            </td>
          </tr>
        ))}
        {requests.length === 0 && <tr><td colSpan={5} className="empty">{empty}</td></tr>}
      </tbody>
    </table>
  );
}
