import { enc, type SyncDefinition } from '../api.ts';
import { typeLabel } from '../format.ts';
import { useApi } from '../use-api.ts';

/** What the sync is, as its config says: the model's SQL or table, the destination, mode, match, mapping, schedule. */
export function SyncDefinitionCard({ sync }: { sync: string }) {
  const { data: d, error } = useApi<SyncDefinition>(`/api/syncs/${enc(sync)}/definition`);
  if (error) return <div className="error">{error}</div>;
  if (!d) return null;
  const options = Object.entries(d.options);
  return (
    <section className="card" data-testid="sync-definition">
      <div className="trace-head"><h2 style={{ margin: 0 }}>Definition</h2>{d.location && <span className="muted small mono">{d.location}</span>}</div>
      <div className="grid-2e">
        <div>
          <h3 className="def-label">Model <span className="mono">{d.model.name}</span> · {typeLabel(d.model.sourceType)} {d.model.source}</h3>
          {d.model.sql !== undefined && <pre className="sql">{d.model.sql}</pre>}
          {d.model.table !== undefined && <p>table <span className="mono">{d.model.table}</span>{d.model.dbt && <> (dbt <span className="mono">{d.model.dbt}</span>)</>}</p>}
          <dl className="kv">
            <div><dt>primary key</dt><dd className="mono">{d.model.primaryKey.join(', ')}</dd></div>
            {d.model.cursor && <div><dt>cursor</dt><dd className="mono">{d.model.cursor}</dd></div>}
            <div><dt>destination</dt><dd>{typeLabel(d.destination.type)} <span className="mono">{d.destination.name}</span></dd></div>
            <div><dt>mode</dt><dd><span className="chip">{d.mode}</span></dd></div>
            <div><dt>schedule</dt><dd>{d.schedule ?? (d.after.length ? `after ${d.after.join(', ')}` : 'manual')}</dd></div>
            {options.map(([key, value]) => <div key={key}><dt>{key}</dt><dd className="mono">{typeof value === 'string' ? value : JSON.stringify(value)}</dd></div>)}
          </dl>
        </div>
        <div>
          <h3 className="def-label">Match and mapping</h3>
          <table className="compact">
            <thead><tr><th>Destination field</th><th>From</th></tr></thead>
            <tbody>
              {Object.entries(d.match).map(([column, field]) => (
                <tr key={`match-${field}`}><td className="mono">{field} <span className="chip">match</span></td><td className="mono">{column}</td></tr>
              ))}
              {d.mapping.map((m) => (
                <tr key={m.field}><td className="mono">{m.field}</td><td className="mono">{m.from === 'column' ? m.value : <>{m.value} <span className="muted">({m.from})</span></>}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
