import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { DuckDBValue } from '@duckdb/node-api';
import { FakeApiServer, FixedWindow, parseJson, type ApiAnswer, type ApiRequest } from '../fake-api-server.ts';
import { FakeWarehouseEngine } from '../fake-warehouse-engine.ts';
import { rowTypeOf, snowflakeEncoder, type FakeRowType } from './fake-snowflake-types.ts';

/**
 * A Snowflake SQL API v2 as its public docs describe it (docs.snowflake.com/en/developer-guide/sql-api):
 * - POST /api/v2/statements?requestId=<uuid>[&retry=true]: runs one statement. A request id
 *   seen before with retry=true answers the statement it started, without running it again.
 * - 200 with the result set (rowType, partitionInfo, partition 0 in `data`), or 202 with a
 *   statementHandle while it runs; GET /api/v2/statements/{handle} answers 202 until it is done.
 * - GET /api/v2/statements/{handle}?partition=N: `{data}` of partition N.
 * - POST /api/v2/statements/{handle}/cancel.
 * - Auth: `Authorization: Bearer`, with X-Snowflake-Authorization-Token-Type KEYPAIR_JWT (RS256,
 *   iss ACCOUNT.USER.SHA256:<fp>, sub ACCOUNT.USER, at most an hour) or OAUTH (the default).
 * - Errors: `{code, message, sqlState, statementHandle}`; 401 for a refused token; 429 past the rate limit.
 * SQL runs on DuckDB (fake-warehouse-engine.ts); DIALECT.md lists where the dialects differ.
 */
export interface SnowflakeFakeOptions {
  /** The account as the JWT must name it (`MYORG-MYACCOUNT`). */
  account: string;
  user: string;
  /** The public key registered on the user (RSA_PUBLIC_KEY). */
  publicKey?: KeyObject;
  oauthTokens?: string[];
  /** Rows per result partition. */
  partitionRows?: number;
  /** GETs of a statement's handle that answer 202 before its result (0: the submit answers 200). */
  pendingPolls?: number;
  /** Each request waits this long before its answer (for benchmarks). */
  latencyMs?: number;
  /** Requests per window beyond which the fake answers 429. */
  rateLimit?: { limit: number; windowMs: number };
  /** The first GET of each result partition answers 429 (a rate limit hit mid-read, every time). */
  throttlePartitions?: boolean;
  /** Answer TIMESTAMPTZ columns as TIMESTAMP_TZ with this offset (minutes) instead of TIMESTAMP_LTZ. */
  tzOffsetMinutes?: number;
}

interface Statement {
  handle: string;
  requestId: string;
  pollsLeft: number;
  rowType: FakeRowType[];
  partitions: (string | null)[][][];
  /** Bytes of each partition's JSON, for partitionInfo. */
  sizes: number[];
  cancelled: boolean;
}

export class SnowflakeFake {
  readonly server: FakeApiServer;
  readonly engine = new FakeWarehouseEngine();
  private readonly statements = new Map<string, Statement>();
  private readonly requestIds = new Map<string, string>();
  private readonly window?: FixedWindow;
  private readonly throttled = new Set<string>();
  /** JWTs already verified, with their expiry (s): checking RS256 once per token, not per request. */
  private readonly verified = new Map<string, number>();

  constructor(readonly options: SnowflakeFakeOptions) {
    this.server = new FakeApiServer((request) => this.route(request));
    if (options.rateLimit) this.window = new FixedWindow(options.rateLimit.limit, options.rateLimit.windowMs);
  }

  get url(): string {
    return this.server.url;
  }

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.server.stop();
    await this.engine.close();
  }

  /** Statements run on behalf of API requests (setup through `engine.run` not counted). */
  get executions(): number {
    return [...this.statements.values()].length;
  }

  cancelled(): string[] {
    return [...this.statements.values()].filter((s) => s.cancelled).map((s) => s.handle);
  }

  private async route(request: ApiRequest): Promise<ApiAnswer> {
    if (this.options.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    if (this.window && !this.window.take()) return TOO_MANY_REQUESTS;
    const refused = await this.authenticate(request);
    if (refused) return refused;
    const match = /^\/api\/v2\/statements(?:\/([^/]+))?(\/cancel)?$/.exec(request.path);
    if (!match) return { status: 404, body: { code: '000404', message: `Unknown path ${request.path}` } };
    const [, handle, cancel] = match;
    if (!handle && request.method === 'POST') return this.submit(request);
    const statement = handle ? this.statements.get(decodeURIComponent(handle)) : undefined;
    if (!statement) return { status: 422, body: { code: '000709', message: `Statement ${handle} not found`, sqlState: '02000', statementHandle: handle } };
    if (cancel && request.method === 'POST') {
      statement.cancelled = true;
      return { status: 200, body: { code: '000604', message: 'Statement cancelled.', sqlState: '57014', statementHandle: statement.handle } };
    }
    if (request.method !== 'GET') return { status: 405, body: { code: '000405', message: `${request.method} not allowed` } };
    return this.status(statement, request.query.get('partition'));
  }

  private async submit(request: ApiRequest): Promise<ApiAnswer> {
    const requestId = request.query.get('requestId') ?? randomUUID();
    const earlier = this.requestIds.get(requestId);
    if (earlier && request.query.get('retry') === 'true') return this.status(this.statements.get(earlier)!, null);
    const body = parseJson(request.body) as { statement?: string; bindings?: Record<string, { type: string; value: string | null }> } | undefined;
    if (!body?.statement) return { status: 400, body: { code: '391900', message: 'Unable to parse the request body: no statement.' } };
    const handle = randomUUID();
    this.requestIds.set(requestId, handle);
    let result;
    try {
      result = await this.engine.execute(body.statement, duckdbParams(body.bindings), snowflakeEncoder(this.options.tzOffsetMinutes));
    } catch (error) {
      this.requestIds.delete(requestId);
      const message = (error as Error).message;
      const catalog = /Catalog Error/.test(message);
      return {
        status: 422,
        body: {
          code: catalog ? '002003' : '001003',
          message: `SQL compilation error:\n${message}`,
          sqlState: catalog ? '42S02' : '42000',
          statementHandle: handle,
        },
      };
    }
    const size = this.options.partitionRows ?? 10_000;
    const partitions: (string | null)[][][] = [];
    for (let i = 0; i < result.rows.length; i += size) partitions.push(result.rows.slice(i, i + size));
    if (partitions.length === 0) partitions.push([]);
    const statement: Statement = {
      handle, requestId, pollsLeft: this.options.pendingPolls ?? 0, cancelled: false, partitions,
      sizes: partitions.map((p) => JSON.stringify(p).length),
      rowType: result.columns.map((c) => rowTypeOf(c.name, c.duckdbType, this.options.tzOffsetMinutes)),
    };
    this.statements.set(handle, statement);
    if (statement.pollsLeft > 0) return running(statement);
    return this.status(statement, null);
  }

  private status(statement: Statement, partition: string | null): ApiAnswer {
    if (statement.pollsLeft > 0) {
      statement.pollsLeft--;
      return running(statement);
    }
    if (partition !== null) {
      if (this.options.throttlePartitions && !this.throttled.has(`${statement.handle}/${partition}`)) {
        this.throttled.add(`${statement.handle}/${partition}`);
        return TOO_MANY_REQUESTS;
      }
      const data = statement.partitions[Number(partition)];
      if (!/^\d+$/.test(partition) || !data) {
        return { status: 422, body: { code: '000711', message: `Invalid partition ${partition}`, sqlState: '22023', statementHandle: statement.handle } };
      }
      return { status: 200, body: { data } };
    }
    const numRows = statement.partitions.reduce((n, p) => n + p.length, 0);
    return {
      status: 200,
      body: {
        resultSetMetaData: {
          numRows,
          format: 'jsonv2',
          partitionInfo: statement.partitions.map((p, i) => ({ rowCount: p.length, uncompressedSize: statement.sizes[i] })),
          rowType: statement.rowType,
        },
        data: statement.partitions[0],
        code: '090001',
        statementStatusUrl: `/api/v2/statements/${statement.handle}?requestId=${statement.requestId}`,
        requestId: statement.requestId,
        sqlState: '00000',
        statementHandle: statement.handle,
        message: 'Statement executed successfully.',
        createdOn: Date.now(),
      },
    };
  }

  /** Undefined when the request carries a token Snowflake would take; else the 401 it answers. */
  private async authenticate(request: ApiRequest): Promise<ApiAnswer | undefined> {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    const kind = String(request.headers['x-snowflake-authorization-token-type'] ?? 'OAUTH').toUpperCase();
    if (!token) return unauthorized('390101', 'Authorization header not found in the request data.');
    if (kind === 'OAUTH') {
      return this.options.oauthTokens?.includes(token) ? undefined : unauthorized('390303', 'Invalid OAuth access token.');
    }
    if (kind !== 'KEYPAIR_JWT') return unauthorized('390144', `Unsupported token type ${kind}.`);
    return this.verifyJwt(token);
  }

  private async verifyJwt(token: string): Promise<ApiAnswer | undefined> {
    const { publicKey, account, user } = this.options;
    if (!publicKey) return unauthorized('390144', 'JWT token is invalid.');
    const expires = this.verified.get(token);
    if (expires !== undefined && expires > Date.now() / 1000) return undefined;
    try {
      if (decodeProtectedHeader(token).alg !== 'RS256') return unauthorized('390144', 'JWT token is invalid.');
      const claims = decodeJwt(token);
      const qualified = `${account.toUpperCase()}.${user.toUpperCase()}`;
      const fingerprint = `SHA256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64')}`;
      if (claims.sub !== qualified) return unauthorized('390144', 'JWT token is invalid.');
      if (claims.iss !== `${qualified}.${fingerprint}`) return unauthorized('390144', 'JWT token is invalid.');
      if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > 3600) {
        return unauthorized('390144', 'JWT token is invalid.');
      }
      await jwtVerify(token, publicKey, { algorithms: ['RS256'] });
      this.verified.set(token, claims.exp);
      return undefined;
    } catch {
      return unauthorized('390144', 'JWT token is invalid.');
    }
  }
}

const TOO_MANY_REQUESTS: ApiAnswer = { status: 429, body: { message: 'Too many requests. Please retry later.' } };

function running(statement: Statement): ApiAnswer {
  return {
    status: 202,
    body: {
      code: '333334',
      message: 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.',
      statementHandle: statement.handle,
      statementStatusUrl: `/api/v2/statements/${statement.handle}`,
    },
  };
}

function unauthorized(code: string, message: string): ApiAnswer {
  return { status: 401, body: { code, message } };
}

/** Bindings as DuckDB parameters: numbers as numbers, everything else as its text. */
function duckdbParams(bindings: Record<string, { type: string; value: string | null }> | undefined): DuckDBValue[] {
  if (!bindings) return [];
  return Object.keys(bindings).sort((a, b) => Number(a) - Number(b)).map((key) => {
    const { type, value } = bindings[key]!;
    if (value === null) return null;
    if (type === 'FIXED') return value.includes('.') ? Number(value) : BigInt(value);
    if (type === 'REAL') return Number(value);
    if (type === 'BOOLEAN') return value === 'true';
    return value;
  });
}
