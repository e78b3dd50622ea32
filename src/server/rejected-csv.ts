import type { RejectedRow } from '../state/run-record.ts';

const COLUMNS = ['key', 'category', 'code', 'field', 'message', 'retry', 'sent', 'run_id', 'at'] as const;

/** Rejected rows as CSV (RFC 4180), one line per row; `sent` holds the values as JSON. */
export function rejectedCsv(rows: RejectedRow[]): string {
  const lines = [COLUMNS.join(',')];
  for (const row of rows) {
    lines.push([
      row.key, row.category, row.code ?? '', row.field ?? '', row.message,
      row.retryable ? 'next run' : 'when the row changes',
      row.sent === undefined ? '' : JSON.stringify(row.sent), row.runId, row.at,
    ].map(cell).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** Quoted when it must be; a cell a spreadsheet would run as a formula (=, +, @) gets a leading quote mark. */
function cell(value: string): string {
  const safe = /^[=+@\t\r]/.test(value) || /^-[^0-9.]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
