import { STATUS_CODES } from 'node:http';
import { SyncError } from '../errors.ts';

/** A successful-looking answer, as the HTTP destinations read it. */
export interface ApiAnswer {
  status: number;
  contentType: string | null | undefined;
  body: string;
}

const FIRST_LINE_MAX = 120;

/**
 * A 2xx an API could not have meant: an HTML page (a captive portal, a proxy's block or login
 * page) or a body that is neither JSON nor a type the caller expects (`accept`, e.g. text/csv
 * for Salesforce Bulk results, text/plain for a webhook's "ok"). Such an answer proves nothing
 * reached the destination, so it is a transient failure: the engine retries the request, then
 * defers its rows to the next run. Returns undefined for an answer that may count.
 */
export function unmeantAnswer(destination: string, where: string, answer: ApiAnswer, accept?: RegExp): SyncError | undefined {
  const { status, body } = answer;
  if (status < 200 || status >= 300 || body.trim() === '') return undefined;
  if (isJson(body)) return undefined;
  const type = (answer.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const markup = /^\s*</.test(body) || /html|xml/.test(type);
  if (!markup && accept?.test(type)) return undefined;
  const said = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  const kind = markup ? 'an HTML page' : `a ${type || 'untyped'} body that is not JSON`;
  return new SyncError('transient',
    `destination "${destination}": ${where} answered ${said} with ${kind}, not an API answer (a proxy, captive portal or login page?): ` +
      `"${firstLine(body)}"; the records were not counted as delivered and are sent again`,
    { status, code: 'UNEXPECTED_ANSWER', category: 'destination_error' });
}

function isJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

function firstLine(body: string): string {
  const line = body.split(/\r?\n/).map((l) => l.trim()).find(Boolean) ?? '';
  return line.length <= FIRST_LINE_MAX ? line : `${line.slice(0, FIRST_LINE_MAX - 1)}…`;
}
