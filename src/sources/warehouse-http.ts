import { backoffDelay, type BackoffPolicy } from '../delivery/backoff.ts';
import { parseRetryAfter } from '../delivery/retry-after.ts';

/**
 * HTTP for the warehouse APIs (Snowflake's SQL API, BigQuery's REST API): a 429, a 5xx or a
 * connection failure is retried with exponential backoff and jitter (a Retry-After header wins),
 * anything else is handed back for the source to read. Reads only, so a retry is always safe;
 * a statement submit stays safe through its request id.
 */
export interface WarehouseRetry {
  /** Attempts in all, the first one included. */
  attempts: number;
  backoff: BackoffPolicy;
  /** Besides 429 and 5xx, answers worth another attempt (BigQuery's 403 rateLimitExceeded). */
  retryable?: (response: WarehouseResponse) => boolean;
}

export const DEFAULT_WAREHOUSE_RETRY: WarehouseRetry = { attempts: 6, backoff: { baseMs: 250, capMs: 10_000 } };

export interface WarehouseResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
  text: string;
}

/** Thrown when every attempt met a retryable failure. */
export class RetriesExhausted extends Error {
  constructor(readonly last: WarehouseResponse | undefined, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * Sends the request built by `request(attempt)` (attempt 0 first) until an answer is neither
 * 429 nor 5xx. `request` rebuilds the URL and headers each time: a token may have been renewed,
 * and a retried submit says `retry=true`.
 */
export async function sendWithRetry(
  request: (attempt: number) => Promise<{ url: string; init: RequestInit }>,
  retry: WarehouseRetry,
  signal: AbortSignal,
): Promise<WarehouseResponse> {
  let last: WarehouseResponse | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < retry.attempts; attempt++) {
    signal.throwIfAborted();
    const { url, init } = await request(attempt);
    let wait: number | undefined;
    try {
      const response = await fetch(url, { ...init, signal });
      const text = await response.text();
      last = { status: response.status, headers: response.headers, body: parseBody(text), text };
      if (response.status !== 429 && response.status < 500 && !retry.retryable?.(last)) return last;
      wait = parseRetryAfter(response.headers.get('retry-after'));
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      lastError = error;
    }
    if (attempt + 1 < retry.attempts) await sleep(Math.max(wait ?? 0, backoffDelay(attempt, retry.backoff)), signal);
  }
  const what = last ? `HTTP ${last.status}${last.text ? `: ${last.text.slice(0, 300)}` : ''}` : messageOf(lastError);
  throw new RetriesExhausted(last, `gave up after ${retry.attempts} attempts (${what})`, { cause: lastError });
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { signal.removeEventListener('abort', stop); resolve(); }, ms);
    const stop = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export const waitFor = sleep;
