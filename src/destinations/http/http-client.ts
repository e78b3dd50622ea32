import { createHmac } from 'node:crypto';
import { Agent, request } from 'undici';
import { SyncError } from '../../errors.ts';
import { secretRedactor, type Redactor } from '../../config/redact.ts';
import { requestInspector } from '../../delivery/request-inspector.ts';

/** One HTTP answer, body read as text. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpClientSettings {
  /** Destination name, for messages. */
  name: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signing?: { secret: string; header: string };
  /** Other secrets the requests carry (in a URL or a body): an answer repeating one has it replaced. */
  secrets?: readonly string[];
}

/**
 * Sends requests for one http destination over its own keep-alive pool. Network failures
 * and timeouts become transient SyncErrors; the caller decides what an answer means.
 * Header values may be secrets: they are sent, never put in a message, and an answer that
 * repeats one has it replaced before anyone reads the body.
 */
export class HttpClient {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  private readonly redact: Redactor;

  constructor(private readonly settings: HttpClientSettings) {
    this.redact = secretRedactor([...Object.values(settings.headers), settings.signing?.secret, ...(settings.secrets ?? [])]);
  }

  async send(method: string, url: string, body: string | undefined, signal: AbortSignal, extraHeaders?: Record<string, string>): Promise<HttpAnswer> {
    const { headers, timeoutMs, signing } = this.settings;
    const sent: Record<string, string> = { ...extraHeaders, ...headers };
    if (body !== undefined) {
      if (!Object.keys(sent).some((name) => name.toLowerCase() === 'content-type')) sent['content-type'] = 'application/json';
      if (signing) sent[signing.header] = sign(body, signing.secret);
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const inspect = { destination: this.settings.name, method, url, startedAt: performance.now(), requestHeaders: sent, requestBody: body };
    try {
      const answer = await request(url, {
        method: method as 'POST', headers: sent, body, dispatcher: this.agent,
        signal: AbortSignal.any([signal, timeout]),
        headersTimeout: timeoutMs + 1_000, bodyTimeout: timeoutMs + 1_000,
      });
      const text = this.redact(await answer.body.text());
      requestInspector.record({ ...inspect, status: answer.statusCode, responseBody: text }, this.redact);
      return { status: answer.statusCode, headers: answer.headers, body: text };
    } catch (err) {
      requestInspector.record({ ...inspect, error: signal.aborted ? 'cancelled' : timeout.aborted ? `no answer within ${timeoutMs} ms` : (err as Error).message }, this.redact);
      if (signal.aborted) throw err;
      const where = `${method} ${redactUrl(url)}`;
      if (timeout.aborted) {
        throw new SyncError('transient', `destination "${this.settings.name}": ${where} did not answer within ${timeoutMs} ms`, { code: 'TIMEOUT', cause: err });
      }
      const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code ?? 'NETWORK';
      throw new SyncError('transient', `destination "${this.settings.name}": ${where} failed (${code}: ${(err as Error).message})`, { code, cause: err });
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** `sha256=` + hex HMAC-SHA256 of the exact bytes sent. */
export function sign(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The URL without credentials or query string (either may hold secrets). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
