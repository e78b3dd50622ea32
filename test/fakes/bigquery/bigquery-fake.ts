import { randomUUID, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { DuckDBValue } from '@duckdb/node-api';
import { FakeApiServer, FixedWindow, parseJson, type ApiAnswer, type ApiRequest } from '../fake-api-server.ts';
import { FakeWarehouseEngine } from '../fake-warehouse-engine.ts';
import { bigqueryEncode, bigqueryField, toCell, type FakeField } from './fake-bigquery-types.ts';

/**
 * BigQuery's REST API v2 for queries, as its public docs describe it (cloud.google.com/bigquery/docs/reference/rest):
 * - POST /token: Google's OAuth 2.0 token endpoint for a service account's JWT (grant type
 *   jwt-bearer): RS256, iss the client_email, aud the token URI, a bigquery scope, an hour at most.
 * - POST /bigquery/v2/projects/{projectId}/queries (jobs.query): runs standard SQL (useLegacySql
 *   must be false, the API's default being true), positional `?` parameters; answers the first
 *   page, or `jobComplete: false` while the job runs. A requestId seen before joins its job.
 * - GET /bigquery/v2/projects/{projectId}/queries/{jobId} (jobs.getQueryResults): pageToken,
 *   maxResults; `jobComplete: false` for `pendingPolls` calls.
 * - POST /bigquery/v2/projects/{projectId}/jobs/{jobId}/cancel (jobs.cancel).
 * - Errors `{error: {code, message, errors: [{message, domain, reason}], status}}`; 401 without a
 *   token it issued; 403 rateLimitExceeded past the rate limit.
 * SQL runs on DuckDB, backquoted identifiers rewritten to double quotes; DIALECT.md lists the gaps.
 */
export interface BigqueryFakeOptions {
  project: string;
  /** The service account allowed to sign in, and its public key. */
  clientEmail: string;
  publicKey: KeyObject;
  privateKeyId?: string;
  /** Rows per page at most, whatever maxResults asks. */
  pageRows?: number;
  /** Calls that answer jobComplete: false before a job's rows. */
  pendingPolls?: number;
  rateLimit?: { limit: number; windowMs: number };
  /** The first getQueryResults of each page answers 403 rateLimitExceeded (a rate limit hit mid-read, every time). */
  throttlePages?: boolean;
}

interface Job {
  jobId: string;
  schema: { fields: FakeField[] };
  rows: { f: { v: unknown }[] }[];
  pollsLeft: number;
  cancelled?: boolean;
}

export class BigqueryFake {
  readonly server: FakeApiServer;
  readonly engine = new FakeWarehouseEngine();
  private readonly jobs = new Map<string, Job>();
  private readonly requestIds = new Map<string, string>();
  private readonly tokens = new Set<string>();
  private readonly window?: FixedWindow;
  private readonly throttled = new Set<string>();

  constructor(readonly options: BigqueryFakeOptions) {
    this.server = new FakeApiServer((request) => this.route(request));
    if (options.rateLimit) this.window = new FixedWindow(options.rateLimit.limit, options.rateLimit.windowMs);
  }

  get url(): string {
    return this.server.url;
  }

  get tokenUrl(): string {
    return `${this.server.url}/token`;
  }

  /** Query jobs run. */
  get executions(): number {
    return this.jobs.size;
  }

  /** Makes every token issued so far invalid (as if revoked or expired). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.engine.close();
  }

  private async route(request: ApiRequest): Promise<ApiAnswer> {
    if (request.path === '/token' && request.method === 'POST') return this.token(request);
    const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!this.tokens.has(token)) {
      return error(401, 'unauthorized', 'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
    if (this.window && !this.window.take()) {
      return RATE_LIMITED;
    }
    const cancel = /^\/bigquery\/v2\/projects\/[^/]+\/jobs\/([^/]+)\/cancel$/.exec(request.path);
    if (cancel && request.method === 'POST') return this.cancel(decodeURIComponent(cancel[1]!));
    const match = /^\/bigquery\/v2\/projects\/([^/]+)\/queries(?:\/([^/]+))?$/.exec(request.path);
    if (!match) return error(404, 'notFound', 'NOT_FOUND', `Not found: ${request.path}`);
    const [, project, jobId] = match;
    if (decodeURIComponent(project!) !== this.options.project) return error(404, 'notFound', 'NOT_FOUND', `Not found: Project ${project}`);
    if (!jobId && request.method === 'POST') return this.query(request);
    const job = jobId ? this.jobs.get(decodeURIComponent(jobId)) : undefined;
    if (!job || request.method !== 'GET') return error(404, 'notFound', 'NOT_FOUND', `Not found: Job ${project}:${jobId}`);
    const pageKey = `${job.jobId}/${request.query.get('pageToken')}`;
    if (this.options.throttlePages && !this.throttled.has(pageKey)) {
      this.throttled.add(pageKey);
      return RATE_LIMITED;
    }
    return this.page(job, request.query.get('pageToken'), Number(request.query.get('maxResults') ?? Infinity), 'bigquery#getQueryResultsResponse');
  }

  private async query(request: ApiRequest): Promise<ApiAnswer> {
    const body = parseJson(request.body) as {
      query?: string; useLegacySql?: boolean; maxResults?: number; requestId?: string; parameterMode?: string;
      queryParameters?: { parameterType: { type: string }; parameterValue: { value?: string } }[];
    } | undefined;
    if (!body?.query) return error(400, 'required', 'INVALID_ARGUMENT', 'Required parameter is missing: query');
    if (body.useLegacySql !== false) return error(400, 'invalidQuery', 'INVALID_ARGUMENT', 'The fake runs standard SQL only: set useLegacySql to false (the API defaults to legacy SQL)');
    const earlier = body.requestId ? this.requestIds.get(body.requestId) : undefined;
    if (earlier) return this.page(this.jobs.get(earlier)!, null, body.maxResults ?? Infinity, 'bigquery#queryResponse');
    let result;
    try {
      result = await this.engine.execute(backquotesToDoubleQuotes(body.query), params(body.queryParameters), bigqueryEncode);
    } catch (failure) {
      const message = (failure as Error).message;
      if (/Catalog Error/.test(message)) return error(404, 'notFound', 'NOT_FOUND', `Not found: ${message}`);
      return error(400, 'invalidQuery', 'INVALID_ARGUMENT', message);
    }
    const fields = result.columns.map((c) => bigqueryField(c.name, c.duckdbType));
    const job: Job = {
      jobId: `job_${randomUUID().replaceAll('-', '')}`,
      schema: { fields },
      rows: result.rows.map((row) => ({ f: row.map((text, i) => ({ v: toCell(fields[i]!, text) })) })),
      pollsLeft: this.options.pendingPolls ?? 0,
    };
    this.jobs.set(job.jobId, job);
    if (body.requestId) this.requestIds.set(body.requestId, job.jobId);
    return this.page(job, null, body.maxResults ?? Infinity, 'bigquery#queryResponse');
  }

  /** jobs.cancel: answers the job, its state DONE (a read-only query has nothing to undo). */
  private cancel(jobId: string): ApiAnswer {
    const job = this.jobs.get(jobId);
    if (!job) return error(404, 'notFound', 'NOT_FOUND', `Not found: Job ${this.options.project}:${jobId}`);
    job.cancelled = true;
    return { status: 200, body: { kind: 'bigquery#jobCancelResponse', job: { jobReference: { projectId: this.options.project, jobId }, status: { state: 'DONE' } } } };
  }

  /** Jobs a client cancelled. */
  cancelled(): string[] {
    return [...this.jobs.values()].filter((job) => job.cancelled).map((job) => job.jobId);
  }

  private page(job: Job, pageToken: string | null, maxResults: number, kind: string): ApiAnswer {
    const jobReference = { projectId: this.options.project, jobId: job.jobId, location: 'US' };
    if (job.pollsLeft > 0) {
      job.pollsLeft--;
      return { status: 200, body: { kind, jobReference, jobComplete: false } };
    }
    const start = pageToken ? Number(Buffer.from(pageToken, 'base64url').toString()) : 0;
    if (!Number.isInteger(start) || start < 0 || start > job.rows.length) return error(400, 'invalid', 'INVALID_ARGUMENT', `Invalid page token: ${pageToken}`);
    const size = Math.min(maxResults, this.options.pageRows ?? 100_000);
    const end = Math.min(job.rows.length, start + size);
    return {
      status: 200,
      body: {
        kind, jobReference, jobComplete: true, schema: job.schema, totalRows: String(job.rows.length),
        ...(end > start ? { rows: job.rows.slice(start, end) } : {}),
        ...(end < job.rows.length ? { pageToken: Buffer.from(String(end)).toString('base64url') } : {}),
        totalBytesProcessed: '0', cacheHit: false,
      },
    };
  }

  private async token(request: ApiRequest): Promise<ApiAnswer> {
    const form = new URLSearchParams(request.body);
    const refuse = (description: string): ApiAnswer => ({ status: 400, body: { error: 'invalid_grant', error_description: description } });
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    const assertion = form.get('assertion') ?? '';
    try {
      const header = decodeProtectedHeader(assertion);
      const claims = decodeJwt(assertion);
      if (header.alg !== 'RS256') return refuse('Invalid JWT: alg must be RS256.');
      if (this.options.privateKeyId && header.kid !== this.options.privateKeyId) return refuse('Invalid JWT Signature.');
      if (claims.iss !== this.options.clientEmail) return refuse('Invalid JWT: iss is not a known service account.');
      if (claims.aud !== this.tokenUrl) return refuse('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
      if (!String(claims.scope ?? '').split(' ').some((scope) => scope.startsWith('https://www.googleapis.com/auth/bigquery'))) return refuse('Invalid JWT: no BigQuery scope.');
      if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > 3600) return refuse('Invalid JWT: Token must be a short-lived token (60 minutes).');
      await jwtVerify(assertion, this.options.publicKey, { algorithms: ['RS256'] });
    } catch {
      return refuse('Invalid JWT Signature.');
    }
    const accessToken = `ya29.fake-${randomUUID()}`;
    this.tokens.add(accessToken);
    return { status: 200, body: { access_token: accessToken, expires_in: 3599, token_type: 'Bearer' } };
  }
}

function error(code: number, reason: string, status: string, message: string): ApiAnswer {
  return { status: code, body: { error: { code, message, errors: [{ message, domain: 'global', reason }], status } } };
}

const RATE_LIMITED = error(403, 'rateLimitExceeded', 'PERMISSION_DENIED', 'Exceeded rate limits: too many api requests per user per method for this user_method.');

function params(parameters: { parameterType: { type: string }; parameterValue: { value?: string } }[] | undefined): DuckDBValue[] {
  return (parameters ?? []).map(({ parameterType, parameterValue }) => {
    const value = parameterValue.value;
    if (value === undefined || value === null) return null;
    switch (parameterType.type) {
      case 'INT64': return BigInt(value);
      case 'FLOAT64': return Number(value);
      case 'BOOL': return value === 'true';
      default: return value;
    }
  });
}

/** BigQuery quotes identifiers in backquotes (`\`` escaped by a backslash), DuckDB in double quotes; string literals are left alone. */
export function backquotesToDoubleQuotes(sql: string): string {
  return sql.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`((?:[^`\\]|\\.)*)`/g, (token, name: string | undefined) =>
    name === undefined ? token : `"${name.replace(/\\(.)/g, '$1').replaceAll('"', '""')}"`);
}
