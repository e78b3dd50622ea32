import { randomUUID } from 'node:crypto';
import { DEFAULT_WAREHOUSE_RETRY, sendWithRetry, waitFor, type WarehouseResponse, type WarehouseRetry } from '../warehouse-http.ts';
import type { SnowflakeAuth } from './snowflake-auth.ts';
import type { SnowflakeBinding, SnowflakeRowType } from './snowflake-values.ts';
import type { SnowflakeSettings } from './snowflake-type.ts';

/** The first answer of a finished statement: its columns, partitions, and partition 0's rows. */
export interface SnowflakeResultSet {
  statementHandle: string;
  resultSetMetaData: {
    numRows?: number;
    format?: string;
    rowType: SnowflakeRowType[];
    partitionInfo?: { rowCount: number; uncompressedSize?: number; compressedSize?: number }[];
  };
  data: (string | null)[][];
}

/** Snowflake's error body: `{code, message, sqlState, statementHandle}`. */
export class SnowflakeApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly sqlState: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

const POLL_FIRST_MS = 50;
const POLL_MAX_MS = 2_000;

/**
 * Snowflake's SQL API v2: submits a statement under a request id (a retried submit says
 * `retry=true` with the same id, so Snowflake never runs it twice), follows a 202 by polling
 * the statement handle, and fetches result partitions. 429 and 5xx are retried with backoff.
 */
export class SnowflakeClient {
  readonly baseUrl: string;

  constructor(
    private readonly settings: SnowflakeSettings,
    private readonly auth: SnowflakeAuth,
    private readonly retry: WarehouseRetry = DEFAULT_WAREHOUSE_RETRY,
  ) {
    this.baseUrl = (settings.url ?? `https://${settings.account.toLowerCase()}.snowflakecomputing.com`).replace(/\/+$/, '');
  }

  /** Runs `statement` and answers its result set once it has finished. */
  async execute(statement: string, bindings: Record<string, SnowflakeBinding>, signal: AbortSignal): Promise<SnowflakeResultSet> {
    const requestId = randomUUID();
    const { warehouse, database, schema, role, statementTimeout } = this.settings;
    const body = JSON.stringify({
      statement,
      ...(statementTimeout === undefined ? {} : { timeout: statementTimeout }),
      ...(warehouse ? { warehouse } : {}),
      ...(database ? { database } : {}),
      ...(schema ? { schema } : {}),
      ...(role ? { role } : {}),
      ...(Object.keys(bindings).length > 0 ? { bindings } : {}),
    });
    const submitted = await this.send(
      (attempt) => `/api/v2/statements?requestId=${requestId}${attempt > 0 ? '&retry=true' : ''}`,
      { method: 'POST', body },
      signal,
    );
    if (submitted.status === 200) return resultSet(submitted);
    const handle = (submitted.body as { statementHandle?: string } | undefined)?.statementHandle;
    if (submitted.status !== 202 || !handle) throw apiError(submitted);
    return this.poll(handle, signal);
  }

  /** The rows of partition `index` (1 and up; partition 0 comes with the result set). */
  async partition(handle: string, index: number, signal: AbortSignal): Promise<(string | null)[][]> {
    const answer = await this.send(() => `/api/v2/statements/${encodeURIComponent(handle)}?partition=${index}`, { method: 'GET' }, signal);
    if (answer.status !== 200) throw apiError(answer);
    const data = (answer.body as { data?: unknown } | undefined)?.data;
    if (!Array.isArray(data)) throw new SnowflakeApiError(answer.status, undefined, undefined, `partition ${index} of statement ${handle} came without data`);
    return data as (string | null)[][];
  }

  /** Asks Snowflake to stop a statement nobody will read (best effort: the read is already over). */
  cancel(handle: string): void {
    void this.send(() => `/api/v2/statements/${encodeURIComponent(handle)}/cancel`, { method: 'POST' }, AbortSignal.timeout(10_000)).catch(() => {});
  }

  private async poll(handle: string, signal: AbortSignal): Promise<SnowflakeResultSet> {
    let wait = POLL_FIRST_MS;
    for (;;) {
      await waitFor(wait, signal);
      const answer = await this.send(() => `/api/v2/statements/${encodeURIComponent(handle)}`, { method: 'GET' }, signal);
      if (answer.status === 200) return resultSet(answer);
      if (answer.status !== 202) throw apiError(answer);
      wait = Math.min(POLL_MAX_MS, wait * 2);
    }
  }

  private async send(path: (attempt: number) => string, init: RequestInit, signal: AbortSignal): Promise<WarehouseResponse> {
    const answer = await this.attempt(path, init, signal);
    if (answer.status !== 401 || this.auth.kind !== 'KEYPAIR_JWT') return answer;
    // A JWT refused (expired on a skewed clock, say) is signed afresh once; a submit says retry=true.
    this.auth.forget();
    return this.attempt((attempt) => path(attempt + 1), init, signal);
  }

  private attempt(path: (attempt: number) => string, init: RequestInit, signal: AbortSignal): Promise<WarehouseResponse> {
    return sendWithRetry(async (attempt) => ({
      url: `${this.baseUrl}${path(attempt)}`,
      init: {
        ...init,
        headers: {
          ...(await this.auth.headers()),
          accept: 'application/json',
          'user-agent': 'lastmile',
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
      },
    }), this.retry, signal);
  }
}

function resultSet(answer: WarehouseResponse): SnowflakeResultSet {
  const body = answer.body as Partial<SnowflakeResultSet> | undefined;
  if (!body?.resultSetMetaData?.rowType || !Array.isArray(body.data)) {
    throw new SnowflakeApiError(answer.status, undefined, undefined, `the answer holds no result set: ${answer.text.slice(0, 300)}`);
  }
  return body as SnowflakeResultSet;
}

function apiError(answer: WarehouseResponse): SnowflakeApiError {
  const body = (answer.body ?? {}) as { code?: string; message?: string; sqlState?: string };
  const message = body.message ?? (answer.text.slice(0, 300) || 'no message');
  const code = body.code ? ` ${body.code}` : '';
  const state = body.sqlState ? ` (SQL state ${body.sqlState})` : '';
  return new SnowflakeApiError(answer.status, body.code, body.sqlState, `Snowflake answered ${answer.status}${code}${state}: ${message}`);
}
