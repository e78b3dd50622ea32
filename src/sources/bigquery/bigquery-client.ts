import { randomUUID } from 'node:crypto';
import { DEFAULT_WAREHOUSE_RETRY, sendWithRetry, waitFor, type WarehouseResponse, type WarehouseRetry } from '../warehouse-http.ts';
import { BigqueryAuth } from './bigquery-auth.ts';
import type { BigqueryCell, BigqueryField, BigqueryParameter } from './bigquery-values.ts';
import type { BigquerySettings } from './bigquery-type.ts';

/** What jobs.query and jobs.getQueryResults answer (the fields a read uses). */
export interface BigqueryPage {
  jobReference: { projectId: string; jobId: string; location?: string };
  jobComplete: boolean;
  schema?: { fields: BigqueryField[] };
  rows?: { f: BigqueryCell[] }[];
  pageToken?: string;
  totalRows?: string;
}

/** BigQuery's error body: `{error: {code, message, errors: [{reason, message}], status}}`. */
export class BigqueryApiError extends Error {
  constructor(readonly status: number, readonly reason: string | undefined, message: string) {
    super(message);
  }
}

const POLL_FIRST_MS = 50;
const POLL_MAX_MS = 1_000;
/** How long one jobs.query or getQueryResults call may wait server-side for the job. */
const SERVER_WAIT_MS = 10_000;
// Reasons a 403 carries when waiting helps (a daily quotaExceeded does not).
const RETRY_REASONS = new Set(['rateLimitExceeded', 'backendError', 'internalError']);

/**
 * BigQuery's REST API v2 for reads: jobs.query (with a requestId, so a retried submit joins the
 * job the first one started), then jobs.getQueryResults with pageToken, polling while the job
 * is not complete. 429, 5xx and a 403 rateLimitExceeded are retried with backoff.
 */
export class BigqueryClient {
  readonly auth: BigqueryAuth;
  readonly baseUrl: string;
  readonly project: string;
  private readonly retry: WarehouseRetry;

  constructor(private readonly settings: BigquerySettings, retry: WarehouseRetry = DEFAULT_WAREHOUSE_RETRY) {
    this.retry = { ...retry, retryable: (answer) => answer.status === 403 && RETRY_REASONS.has(reasonOf(answer) ?? '') };
    this.auth = new BigqueryAuth(settings.credentials, settings.tokenUrl, this.retry);
    this.baseUrl = (settings.url ?? 'https://bigquery.googleapis.com').replace(/\/+$/, '');
    const project = settings.project ?? this.auth.key.project_id;
    if (!project) throw new BigqueryApiError(0, undefined, 'no project: set project, or give a key with project_id');
    this.project = project;
  }

  /** Runs `query` and answers its first page once the job is complete. */
  async query(query: string, parameters: BigqueryParameter[], signal: AbortSignal): Promise<BigqueryPage> {
    const { location, dataset, pageSize } = this.settings;
    const body = {
      query,
      useLegacySql: false,
      maxResults: pageSize ?? 10_000,
      timeoutMs: SERVER_WAIT_MS,
      requestId: randomUUID(),
      ...(location ? { location } : {}),
      ...(dataset ? { defaultDataset: { projectId: this.project, datasetId: dataset } } : {}),
      ...(parameters.length > 0 ? { parameterMode: 'POSITIONAL', queryParameters: parameters } : {}),
    };
    const first = await this.send(`/bigquery/v2/projects/${encodeURIComponent(this.project)}/queries`, { method: 'POST', body: JSON.stringify(body) }, signal);
    let page = first;
    let wait = POLL_FIRST_MS;
    while (!page.jobComplete) {
      await waitFor(wait, signal);
      wait = Math.min(POLL_MAX_MS, wait * 2);
      page = await this.results(page.jobReference, undefined, signal);
    }
    return page;
  }

  /** A page of a complete job's rows (the first one when `pageToken` is undefined), or its state while it runs. */
  results(job: BigqueryPage['jobReference'], pageToken: string | undefined, signal: AbortSignal): Promise<BigqueryPage> {
    const query = new URLSearchParams({ maxResults: String(this.settings.pageSize ?? 10_000), timeoutMs: String(SERVER_WAIT_MS) });
    if (pageToken) query.set('pageToken', pageToken);
    if (job.location) query.set('location', job.location);
    const path = `/bigquery/v2/projects/${encodeURIComponent(job.projectId)}/queries/${encodeURIComponent(job.jobId)}?${query}`;
    return this.send(path, { method: 'GET' }, signal);
  }

  /** Asks BigQuery to stop a job nobody will read (best effort: the read is already over). */
  cancel(job: BigqueryPage['jobReference']): void {
    const query = job.location ? `?location=${encodeURIComponent(job.location)}` : '';
    const path = `/bigquery/v2/projects/${encodeURIComponent(job.projectId)}/jobs/${encodeURIComponent(job.jobId)}/cancel${query}`;
    void this.send(path, { method: 'POST' }, AbortSignal.timeout(10_000)).catch(() => {});
  }

  private async send(path: string, init: RequestInit, signal: AbortSignal): Promise<BigqueryPage> {
    let answer = await this.attempt(path, init, signal);
    if (answer.status === 401) {
      // The token may have been revoked or expired early: sign in once more.
      this.auth.forget();
      answer = await this.attempt(path, init, signal);
    }
    if (answer.status !== 200) throw apiError(answer);
    const page = answer.body as BigqueryPage | undefined;
    if (!page?.jobReference) throw new BigqueryApiError(answer.status, undefined, `BigQuery answered without a job: ${answer.text.slice(0, 300)}`);
    return page;
  }

  private attempt(path: string, init: RequestInit, signal: AbortSignal): Promise<WarehouseResponse> {
    return sendWithRetry(async () => ({
      url: `${this.baseUrl}${path}`,
      init: {
        ...init,
        headers: {
          ...(await this.auth.headers(signal)),
          accept: 'application/json',
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
      },
    }), this.retry, signal);
  }
}

function reasonOf(answer: WarehouseResponse): string | undefined {
  return (answer.body as { error?: { errors?: { reason?: string }[] } } | undefined)?.error?.errors?.[0]?.reason;
}

function apiError(answer: WarehouseResponse): BigqueryApiError {
  const error = (answer.body as { error?: { message?: string; status?: string } } | undefined)?.error;
  const reason = reasonOf(answer);
  const message = error?.message ?? (answer.text.slice(0, 300) || 'no message');
  return new BigqueryApiError(answer.status, reason, `BigQuery answered ${answer.status}${reason ? ` ${reason}` : ''}: ${message}`);
}
