import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeBulk } from './fake-salesforce-bulk.ts';
import { describeAnswer, FAKE_OBJECTS, type FakeObject } from './fake-salesforce-objects.ts';
import { FakeOAuth, type FakeConnectedApp } from './fake-salesforce-oauth.ts';
import { FakeRest } from './fake-salesforce-rest.ts';
import { FakeStore, type LockRule, type StoredRecord } from './fake-salesforce-store.ts';

export type { FakeConnectedApp } from './fake-salesforce-oauth.ts';

export interface FakeSalesforceOptions {
  apps: FakeConnectedApp[];
  /** Access token lifetime; default 2 hours. */
  tokenTtlMs?: number;
  /** The org's DailyApiRequests limit; default 15,000 (a Developer Edition org). */
  dailyApiLimit?: number;
  /** Status polls a Bulk job takes after UploadComplete; default 2. */
  bulkPollsToComplete?: number;
  /** Instead: Bulk jobs process this many rows a second, as a real org does. */
  bulkRowsPerSecond?: number;
  objects?: Record<string, FakeObject>;
}

export interface FakeRequest {
  method: string;
  /** Path without the query string, e.g. /services/data/v62.0/composite/sobjects. */
  path: string;
  status: number;
  /** When it arrived (ms since the epoch), as the org counts it. */
  at: number;
}

type Answer = { status: number; json?: unknown; csv?: string; html?: string };
const error = (status: number, errorCode: string, message: string): Answer => ({ status, json: [{ message, errorCode }] });

/**
 * A local Salesforce org over real HTTP: OAuth token endpoint, describe, sObject
 * Collections, SOQL lookups, Bulk API 2.0 ingest, `/limits`, a daily API counter reported
 * in `Sforce-Limit-Info` on every answer (403 REQUEST_LIMIT_EXCEEDED when used up), and
 * hooks to expire sessions, lock rows or fail requests.
 */
export class FakeSalesforce {
  url = '';
  readonly store: FakeStore;
  readonly oauth: FakeOAuth;
  readonly bulk: FakeBulk;
  readonly requests: FakeRequest[] = [];
  apiUsed = 0;
  dailyApiLimit: number;
  private readonly rest: FakeRest;
  private readonly objects: Record<string, FakeObject>;
  private readonly server: http.Server;
  private failures: Answer[] = [];

  constructor(options: FakeSalesforceOptions) {
    this.objects = options.objects ?? FAKE_OBJECTS;
    this.store = new FakeStore(this.objects);
    this.oauth = new FakeOAuth(options.apps, () => this.url, options.tokenTtlMs ?? 2 * 60 * 60 * 1000);
    this.bulk = new FakeBulk(this.objects, this.store,
      options.bulkRowsPerSecond ? { rowsPerSecond: options.bulkRowsPerSecond } : { pollsToComplete: options.bulkPollsToComplete ?? 2 });
    this.rest = new FakeRest(this.objects, this.store);
    this.dailyApiLimit = options.dailyApiLimit ?? 15_000;
    this.server = http.createServer((request, response) => {
      this.handle(request, response).catch((cause: unknown) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify([{ errorCode: 'UNKNOWN_EXCEPTION', message: String(cause) }]));
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Records of one object, as the org holds them (copies). */
  records(object: string): StoredRecord[] {
    return [...this.store.table(object).values()].map((record) => ({ ...record }));
  }

  /** Creates a record directly, without an API call; returns its Id. */
  seed(object: string, values: Record<string, unknown>): string {
    const result = this.store.insert(this.objects[object], values);
    if (!result.success) throw new Error(`seed ${object}: ${result.errors.map((item) => item.message).join('; ')}`);
    return result.id;
  }

  /** The next `times` saves or deletes of records matching `rule` fail with UNABLE_TO_LOCK_ROW. */
  lockRows(rule: LockRule, times = Number.POSITIVE_INFINITY): void {
    this.store.locks.push({ rule, remaining: times });
  }

  /** The next API requests (after counting) answer these whole-request errors, in order. */
  failNext(...answers: { status: number; errorCode: string; message: string }[]): void {
    this.failures.push(...answers.map((answer) => error(answer.status, answer.errorCode, answer.message)));
  }

  /** The next `times` API requests meet a captive portal: 200 with an HTML sign-in page, nothing done. */
  interceptNext(times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ status: 200, html: '<!DOCTYPE html>\n<html><head><title>Guest Wi-Fi: sign in</title></head><body>Accept the terms to continue</body></html>' });
  }

  /** Every access token stops working, as after a session timeout. */
  expireTokens(): void {
    this.oauth.expireAll();
  }

  /** API requests made to the data API (token requests excluded), by path suffix. */
  calls(suffix?: RegExp): FakeRequest[] {
    return this.requests.filter((request) => request.path.startsWith('/services/data/') && (!suffix || suffix.test(request.path)));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    const method = request.method ?? 'GET';
    const body = await readBody(request);
    const at = Date.now();
    let answer: Answer;
    const headers: Record<string, string> = {};
    if (url.pathname === '/services/oauth2/token' && method === 'POST') {
      const token = await this.oauth.token(new URLSearchParams(body));
      answer = { status: token.status, json: token.body };
    } else {
      const data = /^\/services\/data\/v(\d+\.\d)(\/.*)?$/.exec(url.pathname);
      if (!data) answer = error(404, 'NOT_FOUND', 'The requested resource does not exist');
      else if (!this.oauth.valid(request.headers.authorization)) answer = error(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
      else if (this.apiUsed >= this.dailyApiLimit) {
        answer = error(403, 'REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
        headers['sforce-limit-info'] = `api-usage=${this.apiUsed}/${this.dailyApiLimit}`;
      } else {
        this.apiUsed++;
        headers['sforce-limit-info'] = `api-usage=${this.apiUsed}/${this.dailyApiLimit}`;
        answer = this.failures.shift() ?? this.route(method, data[2] ?? '/', url.searchParams, body, data[1]);
      }
    }
    this.requests.push({ method, path: url.pathname, status: answer.status, at });
    if (answer.html !== undefined) {
      response.writeHead(answer.status, { 'content-type': 'text/html; charset=utf-8' });
      response.end(answer.html);
    } else if (answer.csv !== undefined) {
      response.writeHead(answer.status, { ...headers, 'content-type': 'text/csv' });
      response.end(answer.csv);
    } else if (answer.json !== undefined) {
      response.writeHead(answer.status, { ...headers, 'content-type': 'application/json;charset=UTF-8' });
      response.end(JSON.stringify(answer.json));
    } else {
      response.writeHead(answer.status, headers);
      response.end();
    }
  }

  private route(method: string, path: string, query: URLSearchParams, body: string, version: string): Answer {
    if (method === 'GET' && path === '/limits') {
      return { status: 200, json: { DailyApiRequests: { Max: this.dailyApiLimit, Remaining: this.dailyApiLimit - this.apiUsed }, DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 } } };
    }
    const describe = /^\/sobjects\/(\w+)\/describe\/?$/.exec(path);
    if (method === 'GET' && describe) {
      const object = this.objects[describe[1]];
      return object ? { status: 200, json: describeAnswer(object, this.url, version) } : error(404, 'NOT_FOUND', 'The requested resource does not exist');
    }
    if (path === '/composite/sobjects' || path === '/composite/sobjects/') {
      if (method === 'POST' || method === 'PATCH') return this.rest.save(method, body);
      if (method === 'DELETE') return this.rest.remove(query);
    }
    const upsert = /^\/composite\/sobjects\/(\w+)\/(\w+)$/.exec(path);
    if (upsert && method === 'PATCH') return this.rest.save('PATCH', body, { object: upsert[1], field: upsert[2] });
    if (method === 'GET' && path === '/query') return this.rest.query(query.get('q') ?? '');
    if (path.startsWith('/jobs/ingest')) {
      const answer = this.bulk.route(method, path.slice('/jobs/ingest'.length), body, version);
      if (answer) return answer;
    }
    return error(404, 'NOT_FOUND', 'The requested resource does not exist');
  }
}

/** Starts a fake org on 127.0.0.1 (a free port). */
export function startFakeSalesforce(options: FakeSalesforceOptions): Promise<FakeSalesforce> {
  return new FakeSalesforce(options).start();
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
