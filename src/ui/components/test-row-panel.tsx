import { useState } from 'react';
import { api, enc } from '../api.ts';
import { requestsHref } from '../router.ts';
import { RequestList, type InspectedRequest } from './request-list.tsx';

interface TestRowResult {
  sync: string; key: string; outcome: 'delivered' | 'rejected' | 'deferred' | 'not_sent';
  operation?: string; fields?: Record<string, unknown>; reason?: string; code?: string;
  stateUpdated: boolean; requests: InspectedRequest[];
}

const BADGE = { delivered: 'success', rejected: 'failed', deferred: 'partial', not_sent: 'never' } as const;

/** "Test one row": one row by primary key through the sync's mapping and delivery, with its requests and answers. */
export function TestRowPanel({ sync, destination }: { sync: string; destination?: string }) {
  const [key, setKey] = useState('');
  const [state, setState] = useState<{ sending?: boolean; result?: TestRowResult; error?: string }>({});
  const send = async () => {
    setState({ sending: true });
    try {
      setState({ result: await api<TestRowResult>(`/api/syncs/${enc(sync)}/test-row`, { method: 'POST', body: JSON.stringify({ key }) }) });
    } catch (e) {
      setState({ error: (e as Error).message });
    }
  };
  const r = state.result;
  return (
    <section className="card" data-testid="test-row">
      <h2>Test one row <span className="muted small">· sends it now, even if unchanged; its state moves as a run's would</span></h2>
      <form className="actions" onSubmit={(e) => { e.preventDefault(); void send(); }}>
        <input aria-label="Primary key" placeholder="primary key value" value={key} onChange={(e) => setKey(e.target.value)} />
        <button type="submit" disabled={!key || state.sending}>{state.sending ? 'Sending…' : 'Test one row'}</button>
        {destination && <a href={requestsHref(destination)} style={{ alignSelf: 'center' }}>Recent requests to {destination}</a>}
      </form>
      {state.error && <div className="error">{state.error}</div>}
      {r && (
        <div data-testid="test-row-result" style={{ marginTop: 12 }}>
          <p>
            Row <span className="mono">{r.key}</span>: {r.operation && <span className="chip">{r.operation}</span>}{' '}
            <span className={`badge ${BADGE[r.outcome]}`}>{r.outcome.replace('_', ' ')}</span>{' '}
            <span className="muted small">{r.stateUpdated ? 'state updated' : 'state unchanged'}</span>
          </p>
          {r.reason && <p>{r.code && <span className="code">{r.code}</span>} {r.reason}</p>}
          {r.fields && <pre className="trace small">{JSON.stringify(r.fields, null, 2)}</pre>}
          {r.outcome !== 'not_sent' && <RequestList requests={r.requests} empty="No request was sent." />}
        </div>
      )}
    </section>
  );
}
