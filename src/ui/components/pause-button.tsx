import { useState } from 'react';
import { api, enc } from '../api.ts';

/** Pause / Resume: a paused sync gets no scheduled, dependent, dbt or API run until it is resumed. */
export function PauseButton({ sync, pausedAt, onChange }: { sync: string; pausedAt: string | null; onChange(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const toggle = async () => {
    setBusy(true);
    try {
      await api(`/api/syncs/${enc(sync)}/${pausedAt ? 'resume' : 'pause'}`, { method: 'POST' });
      setError(undefined);
      onChange();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {error && <span className="small" style={{ color: 'var(--bad)', alignSelf: 'center' }}>{error}</span>}
      <button onClick={toggle} disabled={busy}>{pausedAt ? 'Resume' : 'Pause'}</button>
    </>
  );
}
