import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The plumbing a fake SaaS API needs and nothing of any API's behaviour: a server on
 * 127.0.0.1, bodies read, every request logged (headers included), faults injected ahead of
 * the API's own answer, and a fixed-window counter for rate limits. Each fake (braze/,
 * customerio/, iterable/) supplies its routes, auth, limits and error bodies.
 */
export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface ApiAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface LoggedApiRequest extends ApiRequest {
  status: number;
}

export class FakeApiServer {
  readonly log: LoggedApiRequest[] = [];
  private readonly faults: ApiAnswer[] = [];
  private readonly server: http.Server;
  url = '';

  constructor(private readonly route: (request: ApiRequest) => ApiAnswer | Promise<ApiAnswer>) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        const request: ApiRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        // A route may answer later (a fake running SQL on DuckDB does).
        let answer: ApiAnswer;
        try {
          answer = this.faults.shift() ?? await this.route(request);
        } catch (error) {
          answer = { status: 500, body: { message: `the fake failed: ${(error as Error).message}` } };
        }
        this.log.push({ ...request, status: answer.status });
        const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status, { ...(text ? { 'content-type': 'application/json' } : {}), ...answer.headers }).end(text);
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next requests get these answers instead of the API's (after nothing: auth included). */
  inject(...answers: ApiAnswer[]): void {
    this.faults.push(...answers);
  }

  /** Logged requests to one path. */
  requestsTo(path: string): LoggedApiRequest[] {
    return this.log.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Requests counted per fixed window (windows start at multiples of `windowMs`, as Braze's reset header shows). */
export class FixedWindow {
  private start = 0;
  private used = 0;

  constructor(readonly limit: number, readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /** Counts one request if the window has room. */
  take(): boolean {
    this.roll();
    if (this.used >= this.limit) return false;
    this.used++;
    return true;
  }

  get remaining(): number {
    this.roll();
    return Math.max(0, this.limit - this.used);
  }

  /** When the current window ends, ms since the epoch. */
  get resetAt(): number {
    this.roll();
    return this.start + this.windowMs;
  }

  private roll(): void {
    const now = this.now();
    const start = now - (now % this.windowMs);
    if (start !== this.start) {
      this.start = start;
      this.used = 0;
    }
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
