import type { Change, Destination, RecordResult } from '../destinations/destination.ts';
import { BODY_EXCERPT_CHARS, requestInspector, type InspectedRequest } from './request-inspector.ts';

/**
 * One write of a batch, as the request inspector sees it. An HTTP destination's client records
 * each request itself; a write that sent none (SQL statements, queue messages) is recorded here
 * as one entry: the operations and rows handed over, and the outcome or the error.
 */
export async function inspectWrite(destination: Destination, records: Change[], write: () => Promise<RecordResult[]>): Promise<RecordResult[]> {
  const startedAt = performance.now();
  const sent: InspectedRequest[] = [];
  const entry = {
    destination: destination.name, startedAt,
    method: [...new Set(records.map((r) => r.op.toUpperCase()))].join('/'),
    url: `${destination.type} destination "${destination.name}", ${records.length} ${records.length === 1 ? 'row' : 'rows'}`,
    requestBody: rowsExcerpt(records),
  };
  try {
    const results = await requestInspector.capturing(sent, write);
    if (sent.length === 0) requestInspector.record({ ...entry, responseBody: describeResults(results) }, (text) => text);
    return results;
  } catch (error) {
    if (sent.length === 0) requestInspector.record({ ...entry, error: error instanceof Error ? error.message : String(error) }, (text) => text);
    throw error;
  }
}

/** The rows as JSON, only as many as the excerpt can show (a SQL batch can hold thousands). */
function rowsExcerpt(records: Change[]): string {
  const parts: string[] = [];
  let length = 0;
  for (const { key, op, fields } of records) {
    if (length > 2 * BODY_EXCERPT_CHARS) break;
    const part = JSON.stringify({ key, op, fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    parts.push(part);
    length += part.length + 1;
  }
  return `[${parts.join(',')}${parts.length < records.length ? `,… ${records.length - parts.length} more` : ''}]`;
}

function describeResults(results: RecordResult[]): string {
  const refused = results.filter((r) => r.outcome === 'rejected');
  const first = refused[0]?.outcome === 'rejected' ? refused[0].rejection : undefined;
  return `delivered ${results.length - refused.length}, rejected ${refused.length}${first ? ` (first: ${first.code ? `${first.code}: ` : ''}${first.message})` : ''}`;
}
