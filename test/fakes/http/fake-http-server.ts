import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seeded } from '../../helpers/seeded-random.ts';

/**
 * A webhook/bulk endpoint on 127.0.0.1 that behaves like real ones do: a token-bucket
 * rate limit answering 429 with Retry-After (seconds or an HTTP date), injected 503s,
 * requests never answered, connections reset, rows refused (the whole batch with a 400,
 * or per record in a 200), HMAC signatures checked, and a log of every request.
 *
 * Records are `{ op, key, <idField>, ...fields }`, as the http destination sends them;
 * the fake keeps what they say, by identifier, so a test can read the result.
 */
export interface FakeHttpOptions {
  /** Token bucket: `rate` requests per second, `burst` at most at once (default: rate). */
  limit?: { rate: number; burst?: number; retryAfter?: 'seconds' | 'date' };
  /** Identifier field of the records (default `id`). */
  idField?: string;
  /** Records arrive as `{ [bodyKey]: [...] }`. */
  bodyKey?: string;
  /** Required `Authorization` header value; anything else: 401. */
  token?: string;
  /** HMAC secret: the `X-Lastmile-Signature` (or `signatureHeader`) must match, else 401. */
  signingSecret?: string;
  signatureHeader?: string;
  /** A record this returns a reason for is refused. */
  rejectWhen?: (record: Record<string, unknown>) => { message: string; code: string; field?: string } | undefined;
  /** 'batch': one refused record makes a 400 for the request; 'record': 200 with `results`. */
  rejectMode?: 'batch' | 'record';
  /** Wait before answering, ms. */
  latencyMs?: number;
  /** Send `RateLimit-Policy` / `RateLimit-Remaining` from the token bucket. */
  limitHeaders?: boolean;
  /** Random faults, from a seeded generator (the same run every time): a share of requests answered 503, or reset. */
  randomFaults?: { share503?: number; shareReset?: number; seed?: number };
  /** The first `count` requests are answered 429 with this Retry-After (a storm), then normal service. */
  storm?: { count: number; retryAfter: string };
}

/**
 * An injected answer: `body` is sent as JSON, or as it is with `contentType` (a proxy's HTML
 * page); 'hang' never answers, 'reset' drops the connection.
 */
export type Fault = { status: number; retryAfter?: string; body?: unknown; contentType?: string } | 'hang' | 'reset';

export interface LoggedRequest {
  /** ms since the server started (performance clock). */
  at: number;
  /** Wall clock (Date.now()) at arrival. */
  wall: number;
  method: string;
  path: string;
  records: number;
  status: number | 'hang' | 'reset';
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class FakeHttpServer {
  readonly log: LoggedRequest[] = [];
  readonly store = new Map<string, Record<string, unknown>>();
  private readonly faults: Fault[] = [];
  private readonly server: http.Server;
  private readonly started = performance.now();
  private tokens: number;
  private refilledAt = performance.now();
  private inFlight = 0;
  private random: () => number;
  private stormLeft: number;
  /** Most requests seen being handled at the same moment. */
  maxInFlight = 0;
  url = '';

  constructor(private readonly options: FakeHttpOptions = {}) {
    this.tokens = options.limit ? (options.limit.burst ?? options.limit.rate) : Infinity;
    this.random = seeded(options.randomFaults?.seed ?? 1);
    this.stormLeft = options.storm?.count ?? 0;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next requests meet these faults, in order (after auth, before the rate limit). */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  /** Requests answered with this status. */
  count(status: number): number {
    return this.log.filter((r) => r.status === status).length;
  }

  /** Most requests that arrived within any `windowMs` (sliding, from the log). */
  maxInWindow(windowMs = 1000, filter: (r: LoggedRequest) => boolean = () => true): number {
    const times = this.log.filter(filter).map((r) => r.at).sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; j < times.length; j++) {
      while (times[j] - times[i] >= windowMs) i++;
      most = Math.max(most, j - i + 1);
    }
    return most;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const entry: LoggedRequest = { at: performance.now() - this.started, wall: Date.now(), method: req.method ?? '', path: req.url ?? '', records: 0, status: 0, headers: req.headers, body };
    this.log.push(entry);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.answer(req, res, body, entry);
    } finally {
      this.inFlight--;
    }
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse, body: string, entry: LoggedRequest): Promise<void> {
    const o = this.options;
    const send = async (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      if (o.latencyMs) await new Promise((r) => setTimeout(r, o.latencyMs));
      const raw = headers['content-type'] !== undefined && typeof payload === 'string';
      const text = payload === undefined ? '' : raw ? (payload as string) : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': 'application/json', ...this.limitHeaders(), ...headers }).end(text);
    };
    if (req.method === 'HEAD') return send(200, undefined);
    if (o.token !== undefined && req.headers.authorization !== o.token) {
      return send(401, { error: { code: 'UNAUTHORIZED', message: 'missing or invalid token' } });
    }
    if (o.signingSecret !== undefined && !this.signed(req, body)) {
      return send(401, { error: { code: 'BAD_SIGNATURE', message: 'signature does not match the body' } });
    }
    const fault = this.faults.shift() ?? this.nextRandomFault();
    if (fault === 'hang') {
      entry.status = 'hang';
      return; // never answers; the client's timeout must fire
    }
    if (fault === 'reset') {
      entry.status = 'reset';
      req.socket.destroy();
      return;
    }
    if (fault) {
      const headers = { ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}), ...(fault.contentType ? { 'content-type': fault.contentType } : {}) };
      return send(fault.status, fault.body ?? { error: { code: `E${fault.status}`, message: `injected ${fault.status}` } }, headers);
    }
    if (!this.takeToken()) {
      const waitMs = (1 - this.tokens) * (1000 / o.limit!.rate);
      const retryAfter = o.limit!.retryAfter === 'date'
        ? new Date(Date.now() + waitMs + 1000).toUTCString() // dates have whole seconds: round up
        : String(Math.max(1, Math.ceil(waitMs / 1000)));
      return send(429, { error: { code: 'RATE_LIMITED', message: `more than ${o.limit!.rate} requests per second` } }, { 'retry-after': retryAfter });
    }
    let records: Record<string, unknown>[];
    try {
      const parsed = JSON.parse(body);
      const list = o.bodyKey ? parsed[o.bodyKey] : parsed;
      records = Array.isArray(list) ? list : [list];
    } catch {
      return send(400, { error: { code: 'BAD_JSON', message: 'body is not JSON' } });
    }
    entry.records = records.length;
    const refused = records.map((r) => ({ record: r, reason: o.rejectWhen?.(r) }));
    const firstBad = refused.find((r) => r.reason);
    if (firstBad && (o.rejectMode ?? 'batch') === 'batch') {
      return send(400, { error: { ...firstBad.reason, message: `record ${String(firstBad.record.key)}: ${firstBad.reason!.message}` } });
    }
    for (const { record, reason } of refused) if (!reason) this.apply(req.method ?? 'POST', record);
    const results = refused.filter((r) => r.reason).map((r) => ({ key: r.record.key, error: r.reason }));
    return send(200, { received: records.length, results });
  }

  /** A storm's 429, or a random 503 or reset (see options), else nothing. */
  private nextRandomFault(): Fault | undefined {
    if (this.stormLeft > 0) {
      this.stormLeft--;
      return { status: 429, retryAfter: this.options.storm!.retryAfter, body: { error: { code: 'RATE_LIMITED', message: 'slow down' } } };
    }
    const { share503 = 0, shareReset = 0 } = this.options.randomFaults ?? {};
    const x = this.random();
    if (x < share503) return { status: 503 };
    if (x < share503 + shareReset) return 'reset';
    return undefined;
  }

  private apply(method: string, record: Record<string, unknown>): void {
    const id = String(record[this.options.idField ?? 'id']);
    if (method === 'DELETE' || record.op === 'delete') {
      this.store.delete(id);
      return;
    }
    const { op, key, ...fields } = record;
    if (op === 'update' && !this.store.has(id)) return;
    this.store.set(id, { ...this.store.get(id), ...fields });
  }

  private signed(req: http.IncomingMessage, body: string): boolean {
    const header = req.headers[(this.options.signatureHeader ?? 'X-Lastmile-Signature').toLowerCase()];
    const expected = `sha256=${createHmac('sha256', this.options.signingSecret!).update(body).digest('hex')}`;
    return typeof header === 'string' && header.length === expected.length && timingSafeEqual(Buffer.from(header), Buffer.from(expected));
  }

  private takeToken(): boolean {
    const limit = this.options.limit;
    if (!limit) return true;
    const now = performance.now();
    const burst = limit.burst ?? limit.rate;
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) / 1000) * limit.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private limitHeaders(): Record<string, string> {
    const limit = this.options.limit;
    if (!this.options.limitHeaders || !limit) return {};
    const burst = limit.burst ?? limit.rate;
    return { 'ratelimit-policy': `${burst};w=${burst / limit.rate}`, 'ratelimit-remaining': String(Math.max(0, Math.floor(this.tokens))) };
  }
}
