import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { clearToken, getToken, onUnauthorized, takeTokenFromUrl } from './api.ts';
import { TokenGate } from './components/token-gate.tsx';
import { OverviewPage } from './pages/overview-page.tsx';
import { RunPage } from './pages/run-page.tsx';
import { SyncPage } from './pages/sync-page.tsx';
import { RequestsPage } from './pages/requests-page.tsx';
import { syncHref, useRoute } from './router.ts';
import './styles.css';

function App() {
  const route = useRoute();
  const [authed, setAuthed] = useState(() => Boolean(getToken()));
  const [gateMessage, setGateMessage] = useState<string>();
  useEffect(() => onUnauthorized(() => {
    clearToken();
    setGateMessage('That token was refused. Enter a valid API token.');
    setAuthed(false);
  }), []);

  if (!authed) return <TokenGate message={gateMessage} onToken={() => { setGateMessage(undefined); setAuthed(true); }} />;
  return (
    <>
      <header className="topbar">
        <a className="brand" href="#/"><span className="mark" />Lastmile</a>
        <nav className="crumbs">
          <a href="#/">Syncs</a>
          {route.page === 'sync' && <> / <a href={syncHref(route.sync)}>{route.sync}</a></>}
          {route.page === 'run' && <> / run <span className="mono">{route.runId}</span></>}
          {route.page === 'requests' && <> / requests to {route.destination}</>}
        </nav>
        <a href="/openapi.json" style={{ color: '#d1d5db' }}>API</a>
        <button onClick={() => { clearToken(); setAuthed(false); }}>Sign out</button>
      </header>
      <main>
        {route.page === 'overview' && <OverviewPage />}
        {route.page === 'sync' && <SyncPage key={route.sync} sync={route.sync} />}
        {route.page === 'run' && <RunPage key={route.runId} runId={route.runId} />}
        {route.page === 'requests' && <RequestsPage key={route.destination} destination={route.destination} />}
      </main>
    </>
  );
}

takeTokenFromUrl();
createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
