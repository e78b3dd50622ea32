import { enc } from '../api.ts';
import { RequestList, type InspectedRequest } from '../components/request-list.tsx';
import { typeLabel } from '../format.ts';
import { useApi } from '../use-api.ts';

interface InspectorAnswer { destination: string; type: string; kept: number; requests: InspectedRequest[] }

/** The request inspector: the last requests this server sent to one destination, newest first. */
export function RequestsPage({ destination }: { destination: string }) {
  const { data, error } = useApi<InspectorAnswer>(`/api/destinations/${enc(destination)}/requests`, 3000);
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Requests to {destination}</h1>
          <div className="sub">
            {data && <span>{typeLabel(data.type)}</span>}
            <span>the last {data?.kept ?? 100} requests this server sent and their answers, newest first; secrets read ***, bodies are cut at 2,000 characters</span>
          </div>
        </div>
      </div>
      {error && <div className="error">{error}</div>}
      <section className="card flush">
        <RequestList requests={data?.requests ?? []} empty="No request yet: they show here once a run, an event or a row test sends one." />
      </section>
    </>
  );
}
