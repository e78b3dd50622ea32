import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorAnswer, rateLimitedAnswer, unauthorizedAnswer, type Answer } from './fake-answers.ts';
import { handleBatch } from './fake-batch.ts';
import { FakeRateLimiter, type RateLimitSettings } from './fake-rate-limiter.ts';
import { findObjectType, findProperty } from './fake-schema.ts';
import { FakeStore } from './fake-store.ts';

/**
 * A local HubSpot: CRM v3 batch object endpoints and the properties API over real HTTP on
 * 127.0.0.1, with private-app bearer tokens, the rolling 10-second window and daily quota
 * (X-HubSpot-RateLimit-* on every answer, 429 bodies with policyName), and injectable 5xx.
 */
export interface HubspotFakeOptions {
  /** Private app tokens the portal accepts. Default: one, exposed as `fake.token`. */
  tokens?: string[];
  limits?: Partial<RateLimitSettings>;
  /** Delay before every answer, to stand in for the network and HubSpot's own work. */
  latencyMs?: number;
}

export interface RecordedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
  /** Number of inputs of a batch request. */
  inputs?: number;
  policyName?: string;
}

export interface HubspotFake {
  url: string;
  token: string;
  store: FakeStore;
  limiter: FakeRateLimiter;
  /** Every request that passed authentication, in arrival order. */
  requests: RecordedRequest[];
  /**
   * The next `times` authenticated requests (to a path `path` matches, when given) answer `status`
   * without doing anything: a 5xx page, or for 429 the TEN_SECONDLY_ROLLING answer HubSpot gives
   * when another app on the token spent the window.
   */
  failNext(status: number, times?: number, path?: RegExp): void;
  /** Pretends `used` requests were already made today with `token`. */
  setDailyUsed(used: number, token?: string): void;
  close(): Promise<void>;
}

export const DEFAULT_LIMITS: RateLimitSettings = { windowMax: 100, windowMs: 10_000, dailyMax: 250_000 };

export async function startHubspotFake(options: HubspotFakeOptions = {}): Promise<HubspotFake> {
  const tokens = options.tokens ?? ['pat-na1-6a1f0c2e-0000-4000-8000-00000000f4ce'];
  const store = new FakeStore();
  const limiter = new FakeRateLimiter({ ...DEFAULT_LIMITS, ...options.limits });
  const requests: RecordedRequest[] = [];
  const failures: { status: number; path?: RegExp }[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { answer, headers, record } = route(req, Buffer.concat(chunks).toString('utf8'));
      if (record) requests.push({ ...record, status: answer.status, at: Date.now() });
      const send = () => {
        const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        const type = typeof answer.body === 'string' ? 'text/html' : 'application/json;charset=utf-8';
        res.writeHead(answer.status, { ...headers, ...(body ? { 'content-type': type } : {}) });
        res.end(body);
      };
      if (options.latencyMs) setTimeout(send, options.latencyMs);
      else send();
    });
  });

  function route(req: http.IncomingMessage, text: string): { answer: Answer; headers: Record<string, string>; record?: Omit<RecordedRequest, 'status' | 'at'> } {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !tokens.includes(token)) return { answer: unauthorizedAnswer(), headers: {} };
    const record = { method, path } as Omit<RecordedRequest, 'status' | 'at'>;
    if (failures.length && (!failures[0]!.path || failures[0]!.path.test(path))) {
      const { status } = failures.shift()!;
      if (status === 429) return { answer: rateLimitedAnswer('TEN_SECONDLY_ROLLING'), headers: limiter.spent(token), record: { ...record, policyName: 'TEN_SECONDLY_ROLLING' } };
      return { answer: { status, body: `<html><body><h1>${status}</h1>HubSpot is temporarily unavailable.</body></html>` }, headers: {}, record };
    }
    const verdict = limiter.admit(token);
    if (!verdict.ok) {
      return { answer: rateLimitedAnswer(verdict.policyName), headers: verdict.headers, record: { ...record, policyName: verdict.policyName } };
    }
    let body: unknown;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return { answer: errorAnswer(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1'), headers: verdict.headers, record };
      }
    }
    const inputs = Array.isArray((body as { inputs?: unknown })?.inputs) ? (body as { inputs: unknown[] }).inputs.length : undefined;
    return { answer: dispatch(method, path, body), headers: verdict.headers, record: { ...record, ...(inputs === undefined ? {} : { inputs }) } };
  }

  function dispatch(method: string, path: string, body: unknown): Answer {
    const props = /^\/crm\/v3\/properties\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (props && method === 'GET') {
      const type = findObjectType(decodeURIComponent(props[1]!));
      if (!type) return unknownType(props[1]!);
      if (!props[2]) return { status: 200, body: { results: type.properties } };
      const property = findProperty(type, decodeURIComponent(props[2]));
      return property ? { status: 200, body: property } : errorAnswer(404, 'OBJECT_NOT_FOUND', `Property ${props[2]} does not exist`);
    }
    const batch = /^\/crm\/v3\/objects\/([^/]+)\/batch\/([a-z]+)$/.exec(path);
    if (batch && method === 'POST') {
      const type = findObjectType(decodeURIComponent(batch[1]!));
      if (!type) return unknownType(batch[1]!);
      return handleBatch(store, type, batch[2]!, body);
    }
    return errorAnswer(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${path}`);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token: tokens[0]!,
    store,
    limiter,
    requests,
    failNext(status, times = 1, path) {
      for (let i = 0; i < times; i++) failures.push({ status, path });
    },
    setDailyUsed(used, token = tokens[0]!) {
      limiter.setDailyUsed(token, used);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function unknownType(name: string): Answer {
  return errorAnswer(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${decodeURIComponent(name)}`);
}
