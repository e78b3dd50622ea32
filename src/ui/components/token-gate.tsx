import { useState, type FormEvent } from 'react';
import { setToken } from '../api.ts';

/** Asks for an API token (LASTMILE_API_TOKEN or one from the config) and keeps it in this browser. */
export function TokenGate({ message, onToken }: { message?: string; onToken(): void }) {
  const [value, setValue] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!value.trim()) return;
    setToken(value.trim());
    onToken();
  };
  return (
    <div className="gate card">
      <h1>Lastmile</h1>
      <p className="muted">
        Enter an API token: the server's <code>LASTMILE_API_TOKEN</code> or a token listed under <code>tokens</code> in
        the config. It stays in this browser only.
      </p>
      {message && <div className="error">{message}</div>}
      <form onSubmit={submit}>
        <input type="password" aria-label="API token" placeholder="API token" value={value} onChange={(e) => setValue(e.target.value)} autoFocus />
        <button className="primary" type="submit">Open</button>
      </form>
    </div>
  );
}
