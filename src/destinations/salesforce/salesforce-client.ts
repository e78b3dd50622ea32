import type { RateLimitObservation, WriteContext } from '../destination.ts';
import { SyncError } from '../../errors.ts';
import type { SalesforceSession, SalesforceToken } from './salesforce-auth.ts';
import { firstError, requestError } from './salesforce-errors.ts';
import { secretRedactor } from '../../config/redact.ts';
import { unmeantAnswer } from '../unmeant-answer.ts';
import { requestInspector } from '../../delivery/request-inspector.ts';

/** What one HTTP exchange needs from the run: a permit per request, and where the limits it learned go. */
export type CallScope = Pick<WriteContext, 'signal' | 'request' | 'observeLimits'>;

/** A scope outside a delivery (check, describe): requests go at once, limits go only to the destination. */
export function unmetered(signal: AbortSignal): CallScope {
  return { signal, request: (send) => send(() => {}), observeLimits: () => {} };
}

export interface SalesforceRequest {
  /** JSON body, sent as application/json. */
  json?: unknown;
  /** CSV body (Bulk API 2.0 uploads), sent as text/csv. */
  csv?: string;
}

export interface SalesforceAnswer<T> {
  status: number;
  body: T;
}

/**
 * HTTP to one org's REST API (`/services/data/vXX.X/…`). Sends every request, the token's
 * included, through the scope (one permit each), reads `Sforce-Limit-Info: api-usage=used/max`
 * from every answer, swaps an expired token once.
 */
export class SalesforceClient {
  constructor(
    private readonly destination: string,
    private readonly session: SalesforceSession,
    private readonly apiVersion: string,
    /** Every limit observation, also those made outside a write (check, describe). */
    private readonly onLimits: (observation: RateLimitObservation) => void,
  ) {}

  async request<T = unknown>(scope: CallScope, method: string, path: string, request: SalesforceRequest = {}): Promise<SalesforceAnswer<T>> {
    const token = await this.session.token(scope.signal, (fetchToken) => scope.request(fetchToken));
    const first = await this.send<T>(scope, token, method, path, request);
    if (first.status !== 401) return first;
    // The session expired (or was revoked): one fresh token, one more try.
    await this.session.invalidate(token);
    const fresh = await this.session.token(scope.signal, (fetchToken) => scope.request(fetchToken));
    const second = await this.send<T>(scope, fresh, method, path, request);
    if (second.status === 401) {
      const error = firstError(second.body);
      throw new SyncError(
        'config',
        `destination "${this.destination}": Salesforce refused a freshly issued token (${error?.code ?? 401}${error?.message ? `: ${error.message}` : ''}); ` +
          `check the connected app's policies and the integration user's API access`,
        { status: 401, code: error?.code },
      );
    }
    return second;
  }

  /** The org's DailyApiRequests, from `/limits`. */
  async dailyLimits(scope: CallScope): Promise<{ max: number; remaining: number } | undefined> {
    const { body } = await this.request<Record<string, { Max: number; Remaining: number }>>(scope, 'GET', '/limits');
    const daily = body.DailyApiRequests;
    return daily ? { max: daily.Max, remaining: daily.Remaining } : undefined;
  }

  /** One request under its own permit; a failed answer other than 401 is thrown inside it, so the engine sees a 429 there. */
  private send<T>(scope: CallScope, token: SalesforceToken, method: string, path: string, request: SalesforceRequest): Promise<SalesforceAnswer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${token.accessToken}`, accept: 'application/json' };
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.csv !== undefined) {
      headers['content-type'] = 'text/csv';
      body = request.csv;
    }
    const url = `${token.instanceUrl}/services/data/v${this.apiVersion}${path}`;
    const redact = secretRedactor([token.accessToken]);
    return scope.request(async () => {
      const inspect = { destination: this.destination, method, url, startedAt: performance.now(), requestHeaders: headers, requestBody: body };
      let response: Response;
      try {
        response = await fetch(url, { method, headers, body, signal: scope.signal });
      } catch (cause) {
        requestInspector.record({ ...inspect, error: scope.signal.aborted ? 'cancelled' : (cause as Error).message }, redact);
        if (scope.signal.aborted) throw cause;
        throw new SyncError('transient', `destination "${this.destination}": ${method} ${describePath(path)} failed before Salesforce answered (${(cause as Error).message})`, { cause });
      }
      const usage = parseLimitInfo(response.headers.get('sforce-limit-info'));
      if (usage) {
        const observed = { ...usage, at: Date.now() };
        scope.observeLimits(observed);
        this.onLimits(observed);
      }
      const where = `${method} ${describePath(path)}`;
      const answer = await readBody(response, token, (text) => {
        requestInspector.record({ ...inspect, status: response.status, responseBody: text }, redact);
        // Bulk API 2.0 results come as CSV; anything else is JSON or nothing.
        const unmeant = unmeantAnswer(this.destination, where, { status: response.status, contentType: response.headers.get('content-type'), body: text }, /^text\/csv$/);
        if (unmeant) throw unmeant;
      });
      if (!response.ok && response.status !== 401) throw requestError(this.destination, where, response.status, answer, response.headers);
      return { status: response.status, body: answer as T };
    });
  }
}

/** `api-usage=123/15000` -> daily limit and what is left of it. */
export function parseLimitInfo(header: string | null): RateLimitObservation | undefined {
  const match = header && /(?:^|[\s,])api-usage=(\d+)\/(\d+)/.exec(header);
  if (!match) return undefined;
  const used = Number(match[1]);
  const max = Number(match[2]);
  return { dailyLimit: max, dailyRemaining: Math.max(0, max - used) };
}

/** The answer's body, parsed when JSON; an access token it repeats is replaced first, then `check` sees it. */
async function readBody(response: Response, token: SalesforceToken, check?: (text: string) => void): Promise<unknown> {
  const text = secretRedactor([token.accessToken])(await response.text());
  check?.(text);
  if (!text) return undefined;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** The path without its query: ids and external ids stay out of messages. */
function describePath(path: string): string {
  return path.split('?')[0];
}
