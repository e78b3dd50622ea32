import { useState } from 'react';
import { downloadCsv } from '../download-csv.ts';

/** "Export CSV": downloads rejected rows through the API with the stored token. */
export function CsvButton({ path, file }: { path: string; file: string }) {
  const [error, setError] = useState<string>();
  return (
    <>
      <button data-testid="export-csv" onClick={() => downloadCsv(path, file).then(() => setError(undefined), (e: Error) => setError(e.message))}>Export CSV</button>
      {error && <span className="muted small" style={{ color: 'var(--bad)' }}>{error}</span>}
    </>
  );
}
