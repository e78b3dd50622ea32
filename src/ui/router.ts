import { useEffect, useState } from 'react';

/** Routes live in the hash (#/syncs/x), so the server serves one static page and no token is ever in a path. */
export type Route =
  | { page: 'overview' }
  | { page: 'sync'; sync: string }
  | { page: 'run'; runId: string }
  | { page: 'requests'; destination: string };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'syncs' && parts[1]) return { page: 'sync', sync: parts[1] };
  if (parts[0] === 'runs' && parts[1]) return { page: 'run', runId: parts[1] };
  if (parts[0] === 'destinations' && parts[1] && parts[2] === 'requests') return { page: 'requests', destination: parts[1] };
  return { page: 'overview' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = () => {
      setRoute(parseRoute(window.location.hash));
      window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

export const syncHref = (sync: string) => `#/syncs/${encodeURIComponent(sync)}`;
export const runHref = (runId: string) => `#/runs/${encodeURIComponent(runId)}`;
export const requestsHref = (destination: string) => `#/destinations/${encodeURIComponent(destination)}/requests`;
