import type { RateLimitObservation } from '../destination.ts';
import { SyncError } from '../../errors.ts';
import { hubspotError, type HubspotErrorContext } from './hubspot-errors.ts';
import { secretRedactor, type Redactor } from '../../config/redact.ts';
import { unmeantAnswer } from '../unmeant-answer.ts';
import { requestInspector } from '../../delivery/request-inspector.ts';

/** One HubSpot answer that was not an error: 200, 201, 204 or 207 multi-status. */
export interface HubspotAnswer<T> {
  status: number;
  body: T;
}

export interface RequestOptions {
  signal: AbortSignal;
  /** Called with the X-HubSpot-RateLimit-* headers of every answer, errors and 429s included. */
  observe?: (limits: RateLimitObservation) => void;
}

export const DEFAULT_BASE_URL = 'https://api.hubapi.com';

/** A request that has not answered within this time is abandoned and retried by the engine. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * HTTP to one HubSpot portal with a private app token. It sends exactly the request asked
 * for, reports the limit headers, and turns every failed answer into a typed SyncError.
 * The token goes in the Authorization header only: never in a URL, a message or a trace
 * (an answer that repeats it has it replaced before the body is read).
 */
export class HubspotClient {
  private readonly redact: Redactor;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly destination: string,
  ) {
    this.redact = secretRedactor([token]);
  }

  async request<T>(method: 'GET' | 'POST', path: string, body: unknown, options: RequestOptions): Promise<HubspotAnswer<T>> {
    const context: HubspotErrorContext = { destination: this.destination, request: `${method} ${path}` };
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
    const url = this.baseUrl.replace(/\/+$/, '') + path;
    const sent = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    const inspect = { destination: this.destination, method, url, startedAt: performance.now(), requestHeaders: headers, requestBody: sent };
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: sent,
        signal,
      });
    } catch (err) {
      requestInspector.record({ ...inspect, error: options.signal.aborted ? 'cancelled' : describe(err) }, this.redact);
      if (options.signal.aborted) throw options.signal.reason ?? err;
      const timedOut = signal.aborted;
      throw new SyncError(
        'transient',
        `destination "${this.destination}": ${timedOut ? `HubSpot did not answer ${context.request} within ${REQUEST_TIMEOUT_MS / 1000} s` : `could not reach HubSpot at ${this.baseUrl} (${describe(err)})`}; it will be retried`,
        { code: timedOut ? 'TIMEOUT' : 'NETWORK', category: 'destination_error', cause: err },
      );
    }
    const limits = readLimits(response.headers);
    if (limits) options.observe?.(limits);
    const text = this.redact(await response.text());
    requestInspector.record({ ...inspect, status: response.status, responseBody: text }, this.redact);
    const unmeant = unmeantAnswer(this.destination, context.request, { status: response.status, contentType: response.headers.get('content-type'), body: text });
    if (unmeant) throw unmeant;
    const parsed = parseJson(text);
    if (response.status >= 200 && response.status < 300) return { status: response.status, body: parsed as T };
    throw hubspotError(response.status, parsed ?? text, response.headers, context);
  }
}

/** X-HubSpot-RateLimit-* as an observation, or undefined when the answer carried none (a gateway 502). */
export function readLimits(headers: Headers): RateLimitObservation | undefined {
  const num = (name: string) => {
    const raw = headers.get(name);
    const value = raw === null ? NaN : Number(raw);
    return Number.isFinite(value) ? value : undefined;
  };
  const observation: RateLimitObservation = {
    limit: num('x-hubspot-ratelimit-max'),
    remaining: num('x-hubspot-ratelimit-remaining'),
    intervalMs: num('x-hubspot-ratelimit-interval-milliseconds'),
    dailyLimit: num('x-hubspot-ratelimit-daily'),
    dailyRemaining: num('x-hubspot-ratelimit-daily-remaining'),
  };
  const present = Object.fromEntries(Object.entries(observation).filter(([, v]) => v !== undefined));
  return Object.keys(present).length ? (present as RateLimitObservation) : undefined;
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
