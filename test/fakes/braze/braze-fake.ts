import { FakeApiServer, FixedWindow, parseJson, type ApiAnswer, type ApiRequest } from '../fake-api-server.ts';

/**
 * A local Braze REST endpoint, as its public docs describe it: POST /users/track with a Bearer
 * REST API key, at most 75 attributes objects a request, every object naming its user by one of
 * external_id, braze_id, user_alias, email or phone (else a non-fatal error listing its index,
 * while the others are processed), `_update_existing_only` updating known users only; POST
 * /users/delete with at most 50 external_ids; 3,000 requests per 3 s (smaller in tests), told
 * in X-RateLimit-Limit / -Remaining / -Reset (UTC epoch seconds) and refused with 429.
 * Braze does not publish the wording of every fatal message; the fake's are written to the
 * documented shape `{ message, errors? }`.
 */
export interface BrazeFakeOptions {
  apiKey?: string;
  limit?: { requests: number; windowMs: number };
}

const IDENTIFIERS = ['external_id', 'braze_id', 'user_alias', 'email', 'phone'];
const MISSING_ID = "'external_id' or 'braze_id' or 'user_alias' or 'email' or 'phone' is required";

export class BrazeFake {
  readonly users = new Map<string, Record<string, unknown>>();
  readonly apiKey: string;
  readonly server: FakeApiServer;
  private readonly window: FixedWindow;

  constructor(options: BrazeFakeOptions = {}) {
    this.apiKey = options.apiKey ?? 'a1b2c3d4-0000-4000-8000-00000000b7a2';
    const limit = options.limit ?? { requests: 3000, windowMs: 3000 };
    this.window = new FixedWindow(limit.requests, limit.windowMs);
    this.server = new FakeApiServer((request) => this.route(request));
  }

  get url(): string {
    return this.server.url;
  }

  private route(request: ApiRequest): ApiAnswer {
    if (request.headers.authorization !== `Bearer ${this.apiKey}`) return { status: 401, body: { message: 'Invalid API key' } };
    const allowed = this.window.take();
    const headers = {
      'X-RateLimit-Limit': String(this.window.limit),
      'X-RateLimit-Remaining': String(this.window.remaining),
      'X-RateLimit-Reset': String(Math.ceil(this.window.resetAt / 1000)),
    };
    if (!allowed) return { status: 429, headers, body: { message: 'API rate limit exceeded' } };
    const body = parseJson(request.body);
    if (request.method !== 'POST' || typeof body !== 'object' || body === null) {
      return { status: request.method === 'POST' ? 400 : 404, headers, body: { message: request.method === 'POST' ? 'Invalid JSON in request body' : 'Not found' } };
    }
    const answer = request.path === '/users/track' ? this.track(body as Record<string, unknown>)
      : request.path === '/users/delete' ? this.delete(body as Record<string, unknown>)
        : { status: 404, body: { message: 'Not found' } };
    return { ...answer, headers };
  }

  private track(body: Record<string, unknown>): ApiAnswer {
    const attributes = Array.isArray(body.attributes) ? (body.attributes as Record<string, unknown>[]) : [];
    if (attributes.length > 75) return { status: 400, body: { message: 'Max Input Length Exceeded: more than 75 attributes objects in one request' } };
    const errors: { type: string; input_array: string; index: number }[] = [];
    let processed = 0;
    attributes.forEach((object, index) => {
      const externalId = object.external_id;
      if (!IDENTIFIERS.some((id) => object[id] !== undefined && object[id] !== null && object[id] !== '')) {
        errors.push({ type: MISSING_ID, input_array: 'attributes', index });
        return;
      }
      processed++;
      if (typeof externalId !== 'string') return; // other identifiers: accepted, not kept by this fake
      if (object._update_existing_only === true && !this.users.has(externalId)) return;
      const user = { ...this.users.get(externalId) };
      for (const [key, value] of Object.entries(object)) {
        if (key === '_update_existing_only' || key === 'external_id') continue;
        if (value === null) delete user[key];
        else user[key] = value;
      }
      this.users.set(externalId, user);
    });
    if (processed === 0) {
      return { status: 400, body: { message: "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.", ...(errors.length ? { errors } : {}) } };
    }
    return { status: 201, body: { message: 'success', attributes_processed: processed, ...(errors.length ? { errors } : {}) } };
  }

  private delete(body: Record<string, unknown>): ApiAnswer {
    const ids = Array.isArray(body.external_ids) ? body.external_ids.map(String) : [];
    if (ids.length > 50) return { status: 400, body: { message: 'Max Input Length Exceeded: more than 50 external_ids in one request' } };
    let deleted = 0;
    for (const id of ids) if (this.users.delete(id)) deleted++;
    return { status: 201, body: { message: 'success', deleted } };
  }
}
