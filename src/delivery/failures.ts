import { STATUS_CODES } from 'node:http';
import { SyncError } from '../errors.ts';

/** How the delivery engine reads a failure, and names it in the trace. */

/** Errors thrown by drivers that mean "try again": the connection, not the request, failed. */
const NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** Kinds that stop the whole delivery. */
export const STOPPING = new Set(['config', 'quota', 'unavailable']);

/** The SyncError a thrown value means; undefined for anything else (a bug, an abort). */
export function classify(err: unknown): SyncError | undefined {
  if (err instanceof SyncError) return err;
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  if ((code && NETWORK_CODES.has(code)) || e?.name === 'TimeoutError') {
    return new SyncError('transient', e?.message ?? String(err), { code: code ?? 'TIMEOUT', cause: err });
  }
  return undefined;
}

export function isAbort(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'AbortError';
}

export function statusText(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

/** `429 Too Many Requests`, else the destination's code, else the kind. */
export function describe(err: SyncError): string {
  if (err.status) return statusText(err.status);
  return err.code ?? err.kind;
}

export function seconds(ms: number): string {
  return ms >= 86_400_000 * 365 ? `${Math.round(ms / (86_400_000 * 365))} years` : `${Math.round(ms / 1000).toLocaleString('en-US')} s`;
}
