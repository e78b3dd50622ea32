import { parseRetryAfter } from '../../delivery/retry-after.ts';

/** An answer of the API that is not a success: HTTP status, `error_code` and `message` from its body. */
export class DatabricksApiError extends Error {
  constructor(readonly status: number, readonly errorCode: string, message: string) {
    super(message);
  }
}

/** Retries of a 429 (or a 503 "temporarily unavailable") before the read fails. */
const MAX_RETRIES = 5;
const LONGEST_WAIT_MS = 60_000;

/**
 * The REST calls of the Statement Execution API, with the bearer token. A 429 or 503 is
 * retried after its Retry-After (or 1 s, 2 s, 4 s …), a few times; any other error answer
 * becomes a DatabricksApiError with the body's `error_code` and `message`.
 */
export class DatabricksClient {
  constructor(private readonly host: string, private readonly token: string) {}

  async call<T>(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<T> {
    const url = new URL(path, this.host.endsWith('/') ? this.host : `${this.host}/`);
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
      });
      const text = await response.text();
      if (response.ok) return JSON.parse(text) as T;
      const retryable = response.status === 429 || response.status === 503;
      if (retryable && attempt < MAX_RETRIES) {
        const asked = parseRetryAfter(response.headers.get('retry-after'));
        await sleep(Math.min(asked ?? 1000 * 2 ** attempt, LONGEST_WAIT_MS), signal);
        continue;
      }
      throw answerError(response.status, text, retryable ? attempt : undefined);
    }
  }
}

/** A link of `result.external_links`: a chunk's rows at a presigned URL. */
export interface ExternalLink {
  chunk_index: number;
  external_link: string;
  expiration?: string;
  http_headers?: Record<string, string>;
  next_chunk_internal_link?: string;
}

/** Why a presigned URL was refused (the storage service's status and code): 403 once the link expired. */
export class ExternalLinkError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The rows of one EXTERNAL_LINKS chunk (format JSON_ARRAY: one JSON array of rows). The URL
 * carries its own credentials: the request sends only the link's `http_headers`, never the
 * token (the storage service refuses a second auth mechanism, and must not see the token).
 */
export async function fetchExternalLink(link: ExternalLink, signal: AbortSignal): Promise<(string | null)[][]> {
  const response = await fetch(link.external_link, { headers: link.http_headers ?? {}, signal });
  const text = await response.text();
  if (!response.ok) {
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    throw new ExternalLinkError(response.status, `the result storage answered HTTP ${response.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''} for chunk ${link.chunk_index}`);
  }
  return JSON.parse(text) as (string | null)[][];
}

function answerError(status: number, text: string, retries: number | undefined): DatabricksApiError {
  let errorCode = `HTTP_${status}`;
  let message = text.slice(0, 300) || `HTTP ${status}`;
  try {
    const body = JSON.parse(text) as { error_code?: string; message?: string };
    if (body.error_code) errorCode = body.error_code;
    if (body.message) message = body.message;
  } catch { /* not JSON: the text itself says what happened */ }
  const after = retries !== undefined ? ` (still after ${retries} retries)` : '';
  return new DatabricksApiError(status, errorCode, `${errorCode}: ${message}${after}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => { signal.removeEventListener('abort', stop); resolve(); }, ms);
    const stop = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', stop, { once: true });
  });
}

export { sleep };
