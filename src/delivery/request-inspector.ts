import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redactor } from '../config/redact.ts';
import { redactHeaders } from '../destinations/http-request/redact-request.ts';

/** Requests kept per destination: enough to see a pattern, bounded whatever the traffic. */
export const REQUESTS_KEPT = 100;
/** Characters kept of each body: an excerpt to read, not a copy of the payload. */
export const BODY_EXCERPT_CHARS = 2_000;

/** One request a destination sent and what came back, secrets replaced. */
export interface InspectedRequest {
  destination: string;
  /** When the request left (ISO time). */
  at: string;
  method: string;
  url: string;
  /** The answer's HTTP status; absent when none came (timeout, network). */
  status?: number;
  /** Why no answer came. */
  error?: string;
  ms: number;
  /** Headers sent; a credential header's value is `***`. */
  requestHeaders?: Record<string, string>;
  requestBody?: string;
  responseBody?: string;
}

/** What a client knows of one exchange, before redaction. */
export interface Exchange {
  destination: string;
  method: string;
  url: string;
  /** performance.now() when the request left. */
  startedAt: number;
  requestHeaders?: Record<string, string>;
  requestBody?: string;
  status?: number;
  responseBody?: string;
  error?: string;
}

/**
 * The last REQUESTS_KEPT requests of each destination in this process (a ring per destination),
 * for `GET /api/destinations/{name}/requests` and for `sync --only`, which captures the
 * requests its one row caused. Every HTTP client of a destination reports here.
 */
export class RequestInspector {
  private readonly rings = new Map<string, { entries: InspectedRequest[]; next: number }>();
  /** The captures the current call runs inside, outermost first: each gets the requests made in it. */
  private readonly captures = new AsyncLocalStorage<InspectedRequest[][]>();

  record(exchange: Exchange, redact: Redactor): void {
    const entry = inspected(exchange, redact);
    let ring = this.rings.get(entry.destination);
    if (!ring) this.rings.set(entry.destination, (ring = { entries: [], next: 0 }));
    if (ring.entries.length < REQUESTS_KEPT) ring.entries.push(entry);
    else ring.entries[ring.next] = entry;
    ring.next = (ring.next + 1) % REQUESTS_KEPT;
    for (const into of this.captures.getStore() ?? []) into.push(entry);
  }

  /** The destination's kept requests, newest first. */
  list(destination: string): InspectedRequest[] {
    const ring = this.rings.get(destination);
    if (!ring) return [];
    const { entries, next } = ring;
    const oldestFirst = entries.length < REQUESTS_KEPT ? entries : [...entries.slice(next), ...entries.slice(0, next)];
    return [...oldestFirst].reverse();
  }

  /** Runs `fn` and answers, with its result, the requests it caused (in order), whatever else runs meanwhile. */
  async captured<T>(fn: () => Promise<T>): Promise<{ result: T; requests: InspectedRequest[] }> {
    const requests: InspectedRequest[] = [];
    const result = await this.capturing(requests, fn);
    return { result, requests };
  }

  /** Runs `fn`, adding the requests it causes to `into` (there also when it throws). */
  capturing<T>(into: InspectedRequest[], fn: () => Promise<T>): Promise<T> {
    return this.captures.run([...(this.captures.getStore() ?? []), into], fn);
  }
}

/** The process's inspector: destinations record into it, the server reads it. */
export const requestInspector = new RequestInspector();

function inspected(exchange: Exchange, redact: Redactor): InspectedRequest {
  const { destination, method, url, status, error, requestHeaders, requestBody, responseBody } = exchange;
  return {
    destination, at: new Date(Date.now() - (performance.now() - exchange.startedAt)).toISOString(),
    method, url: redact(url),
    ...(status !== undefined ? { status } : {}),
    ...(error !== undefined ? { error: redact(error) } : {}),
    ms: Math.round(performance.now() - exchange.startedAt),
    ...(requestHeaders ? { requestHeaders: redactHeaders(requestHeaders, redact) } : {}),
    ...(requestBody ? { requestBody: excerpt(requestBody, redact) } : {}),
    ...(responseBody ? { responseBody: excerpt(responseBody, redact) } : {}),
  };
}

/**
 * The body's start, secrets replaced. Only twice the excerpt is redacted (a batch's body can be
 * megabytes), then cut: a secret the first cut splits lies past the excerpt, and is dropped whole.
 */
function excerpt(text: string, redact: Redactor): string {
  const clean = redact(text.length > 2 * BODY_EXCERPT_CHARS ? text.slice(0, 2 * BODY_EXCERPT_CHARS) : text);
  return clean.length <= BODY_EXCERPT_CHARS && text.length <= 2 * BODY_EXCERPT_CHARS
    ? clean
    : `${clean.slice(0, BODY_EXCERPT_CHARS)}… (${text.length.toLocaleString('en-US')} characters)`;
}
