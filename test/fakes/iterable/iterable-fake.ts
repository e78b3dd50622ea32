import { FakeApiServer, FixedWindow, parseJson, type ApiAnswer, type ApiRequest } from '../fake-api-server.ts';

/**
 * A local Iterable API, from its published OpenAPI document: the `Api-Key` header; POST
 * /api/users/bulkUpdate (body under 4 MB, 5 requests/second per project) answering
 * `{successCount, failCount, failedUpdates: {invalidEmails, invalidDataEmails, …}}`; DELETE
 * /api/users/{email} and /api/users/byUserId/{userId} (100/s); GET /api/users/getFields (3/s),
 * a map of field name -> type. Errors are `{msg, code, params}` with Iterable's codes (BadApiKey,
 * BadJsonBody, BatchTooLarge, RateLimitExceeded). A value whose type differs from the field's
 * makes that user an invalidData failure, as Iterable does.
 */
export interface IterableFakeOptions {
  apiKey?: string;
  /** Requests per second of bulkUpdate (default 5, Iterable's). */
  bulkRate?: number;
  fields?: Record<string, string>;
}

const BODY_LIMIT = 4 * 1024 * 1024;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export class IterableFake {
  readonly users = new Map<string, Record<string, unknown>>();
  readonly fields: Record<string, string>;
  readonly apiKey: string;
  readonly server: FakeApiServer;
  private readonly windows: Record<string, FixedWindow>;

  constructor(options: IterableFakeOptions = {}) {
    this.apiKey = options.apiKey ?? '4f9c2a7e1b3d4c5e8f0a1b2c3d4e5f60';
    this.fields = { email: 'string', userId: 'string', firstName: 'string', amount: 'long', ...options.fields };
    this.windows = { bulk: new FixedWindow(options.bulkRate ?? 5, 1000), fields: new FixedWindow(3, 1000), user: new FixedWindow(100, 1000) };
    this.server = new FakeApiServer((request) => this.route(request));
  }

  get url(): string {
    return this.server.url;
  }

  private route(request: ApiRequest): ApiAnswer {
    if (request.headers['api-key'] !== this.apiKey) return error(401, 'BadApiKey', 'Invalid API key');
    const { method, path } = request;
    if (method === 'POST' && path === '/api/users/bulkUpdate') return this.limited('bulk') ?? this.bulkUpdate(request.body);
    if (method === 'GET' && path === '/api/users/getFields') return this.limited('fields') ?? { status: 200, body: { fields: this.fields } };
    const byEmail = /^\/api\/users\/([^/]+)$/.exec(path);
    const byUserId = /^\/api\/users\/byUserId\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && (byEmail || byUserId)) {
      const limited = this.limited('user');
      if (limited) return limited;
      this.users.delete(decodeURIComponent((byUserId ?? byEmail)![1]!));
      return { status: 200, body: { msg: 'User deletion queued', code: 'Success', params: null } };
    }
    return error(404, 'NotFound', `No route for ${method} ${path}`);
  }

  private limited(which: string): ApiAnswer | undefined {
    return this.windows[which]!.take() ? undefined : error(429, 'RateLimitExceeded', 'Rate limit exceeded');
  }

  private bulkUpdate(text: string): ApiAnswer {
    if (Buffer.byteLength(text) > BODY_LIMIT) return error(400, 'BatchTooLarge', 'Request body is larger than 4MB');
    const body = parseJson(text) as { users?: unknown } | undefined;
    if (!body || !Array.isArray(body.users)) return error(400, 'BadJsonBody', 'users is required');
    const failed = { invalidEmails: [] as string[], invalidUserIds: [] as string[], invalidDataEmails: [] as string[], invalidDataUserIds: [] as string[] };
    let successCount = 0;
    for (const user of body.users as Record<string, unknown>[]) {
      const byEmail = typeof user.email === 'string';
      const id = String(byEmail ? user.email : user.userId ?? '');
      if (byEmail ? !EMAIL.test(id) : id.trim() === '' || /[^\x20-\x7e]|\s$/.test(id)) {
        (byEmail ? failed.invalidEmails : failed.invalidUserIds).push(id);
        continue;
      }
      const data = (user.dataFields ?? {}) as Record<string, unknown>;
      if (Object.entries(data).some(([name, value]) => !fits(this.fields[name], value))) {
        (byEmail ? failed.invalidDataEmails : failed.invalidDataUserIds).push(id);
        continue;
      }
      this.users.set(id, { ...this.users.get(id), ...(byEmail ? { email: id } : { userId: id }), ...data });
      successCount++;
    }
    const failCount = body.users.length - successCount;
    return { status: 200, body: { successCount, failCount, invalidEmails: failed.invalidEmails, invalidUserIds: failed.invalidUserIds, failedUpdates: failed } };
  }
}

/** A value fits a field of that type (a field not yet known takes anything). */
function fits(type: string | undefined, value: unknown): boolean {
  if (type === undefined || value === null) return true;
  if (type === 'long') return Number.isInteger(value);
  if (type === 'double') return typeof value === 'number';
  if (type === 'boolean') return typeof value === 'boolean';
  if (type === 'string' || type === 'date') return typeof value === 'string';
  return true;
}

function error(status: number, code: string, msg: string): ApiAnswer {
  return { status, body: { msg, code, params: null } };
}
