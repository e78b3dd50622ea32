import { FakeApiServer, FixedWindow, parseJson, type ApiAnswer, type ApiRequest } from '../fake-api-server.ts';

/**
 * A local Customer.io Track API, as its public docs describe it: HTTP Basic auth with the
 * workspace's site ID and Track API key; POST /api/v2/batch of person operations
 * (`{type: "person", identifiers: {id | email | cio_id}, action: identify | delete, attributes}`),
 * smaller than 500 KB with every operation 32 KB or smaller; 200 with `{}` when all went in,
 * 207 with `errors: [{batch_index, reason, field, message}]` naming the ones that did not;
 * GET /api/v1/accounts/region; a fair-use limit of 100 requests per second answered with 429.
 * The reason strings are not published: the fake's are its own.
 */
export interface CustomerioFakeOptions {
  siteId?: string;
  apiKey?: string;
  limit?: { requests: number; windowMs: number };
}

const BATCH_LIMIT = 500 * 1024;
const OPERATION_LIMIT = 32 * 1024;

export class CustomerioFake {
  /** People by their `id` identifier (or email when that is what identified them). */
  readonly people = new Map<string, Record<string, unknown>>();
  readonly siteId: string;
  readonly apiKey: string;
  readonly server: FakeApiServer;
  private readonly window: FixedWindow;

  constructor(options: CustomerioFakeOptions = {}) {
    this.siteId = options.siteId ?? 'a4f1e0c2b3d45e6f7a80';
    this.apiKey = options.apiKey ?? '9b8c7d6e5f4a3b2c1d0e';
    const limit = options.limit ?? { requests: 100, windowMs: 1000 };
    this.window = new FixedWindow(limit.requests, limit.windowMs);
    this.server = new FakeApiServer((request) => this.route(request));
  }

  get url(): string {
    return this.server.url;
  }

  private route(request: ApiRequest): ApiAnswer {
    const expected = `Basic ${Buffer.from(`${this.siteId}:${this.apiKey}`).toString('base64')}`;
    if (request.headers.authorization !== expected) {
      return { status: 401, body: { meta: { error: 'Unauthorized request' } } };
    }
    if (!this.window.take()) return { status: 429, body: { errors: [{ reason: 'rate_limited', message: 'Too many requests' }] } };
    if (request.method === 'GET' && request.path === '/api/v1/accounts/region') {
      return { status: 200, body: { url: 'https://track.customer.io', region: 'us', environment_id: 1 } };
    }
    if (request.method !== 'POST' || request.path !== '/api/v2/batch') return { status: 404, body: { errors: [{ reason: 'not_found', message: 'Not Found' }] } };
    if (Buffer.byteLength(request.body) >= BATCH_LIMIT) {
      return { status: 413, body: { errors: [{ reason: 'too_large', message: 'batch request must be smaller than 500kb' }] } };
    }
    const body = parseJson(request.body) as { batch?: unknown } | undefined;
    if (!body || !Array.isArray(body.batch)) {
      return { status: 400, body: { errors: [{ reason: 'invalid', field: 'batch', message: 'batch is required and must be an array' }] } };
    }
    const errors: { batch_index: number; reason: string; field?: string; message: string }[] = [];
    body.batch.forEach((operation: Record<string, unknown>, index: number) => {
      const problem = this.apply(operation);
      if (problem) errors.push({ batch_index: index, ...problem });
    });
    return errors.length ? { status: 207, body: { errors } } : { status: 200, body: {} };
  }

  private apply(operation: Record<string, unknown>): { reason: string; field?: string; message: string } | undefined {
    if (Buffer.byteLength(JSON.stringify(operation)) > OPERATION_LIMIT) {
      return { reason: 'too_large', message: 'each request in a batch must be 32kb or smaller' };
    }
    if (operation.type !== 'person') return { reason: 'invalid', field: 'type', message: 'this fake knows person operations only' };
    const identifiers = (operation.identifiers ?? {}) as Record<string, unknown>;
    const id = identifiers.id ?? identifiers.email ?? identifiers.cio_id;
    if (id === undefined || id === null || id === '') return { reason: 'required', field: 'identifiers', message: 'identifiers must have an id, email or cio_id' };
    const key = String(id);
    if (operation.action === 'delete') {
      this.people.delete(key);
      return undefined;
    }
    if (operation.action !== 'identify') return { reason: 'invalid', field: 'action', message: `unknown action ${String(operation.action)}` };
    const person = { ...this.people.get(key), ...identifiers };
    for (const [name, value] of Object.entries((operation.attributes ?? {}) as Record<string, unknown>)) {
      if (value === null || value === '') delete person[name];
      else person[name] = value;
    }
    this.people.set(key, person);
    return undefined;
  }
}
