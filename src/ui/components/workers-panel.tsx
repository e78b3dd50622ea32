import type { WorkerInfo } from '../api.ts';
import { dateTime, n, relative } from '../format.ts';
import { useApi } from '../use-api.ts';

/**
 * The distributed mode's workers (`GET /api/workers`): alive or not, what each works on now,
 * its last heartbeat. Shows nothing for a project without `queue:` (no worker to list).
 */
export function WorkersPanel() {
  const { data, error } = useApi<{ workers: WorkerInfo[] }>('/api/workers', 5000);
  const workers = data?.workers ?? [];
  if (error) return <div className="error">workers: {error}</div>;
  if (workers.length === 0) return null;
  const alive = workers.filter((w) => w.alive).length;
  return (
    <section className="card flush" style={{ marginTop: 16 }}>
      <h2>Workers <span className="muted small">{n(alive)} alive of {n(workers.length)}</span></h2>
      <table data-testid="workers-table">
        <thead>
          <tr><th>Worker</th><th>Status</th><th>Current jobs</th><th>Last heartbeat</th><th>Config version</th><th>Started</th></tr>
        </thead>
        <tbody>
          {workers.map((w) => (
            <tr key={w.id} data-worker={w.id}>
              <td><strong>{w.host}</strong> <span className="muted small">pid {w.pid}</span></td>
              <td><span className={`badge ${w.alive ? 'success' : 'failed'}`} data-alive={String(w.alive)}>{w.alive ? 'Alive' : 'Not heard from'}</span></td>
              <td>{w.jobs.length === 0 ? <span className="muted">idle</span> : (
                <>{n(w.jobs.length)}<div className="muted small">{w.jobs.join(', ')}</div></>
              )}</td>
              <td title={dateTime(w.lastHeartbeat)}>{relative(w.lastHeartbeat)}</td>
              <td><code>{w.configVersion}</code></td>
              <td title={dateTime(w.startedAt)}>{relative(w.startedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
