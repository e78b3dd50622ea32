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
