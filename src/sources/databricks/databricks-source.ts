import { RunError } from '../../errors.ts';
import { redact } from '../../config/redact.ts';
import type { Column, ReadOptions, Row, RowChunk, Value } from '../source.ts';
import { DatabricksApiError, DatabricksClient, ExternalLinkError, fetchExternalLink, sleep, type ExternalLink } from './databricks-client.ts';
import { databricksColumn, databricksParameter, type DatabricksColumnInfo } from './databricks-values.ts';
import type { DatabricksSettings } from './databricks-type.ts';
import { databricksQuote } from '../../diff/fingerprint/databricks-fingerprint.ts';
import { databricksSession } from './databricks-session.ts';
import { databricksDialect } from '../../diff/warehouse/databricks-dialect.ts';
import type { WarehouseSession, WarehouseSource } from '../../diff/warehouse/warehouse-session.ts';

/** The parts of a StatementResponse and of a ResultData a read uses. */
interface ResultData {
  chunk_index?: number;
  data_array?: (string | null)[][];
  external_links?: ExternalLink[];
  next_chunk_index?: number;
  next_chunk_internal_link?: string;
}
interface StatementResponse {
  statement_id: string;
  status: { state: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED'; error?: { error_code?: string; message?: string } };
  manifest?: { schema?: { columns?: DatabricksColumnInfo[] }; truncated?: boolean };
  result?: ResultData;
}

const STATEMENTS = '/api/2.0/sql/statements';
/** Polls start fast (most statements end in a second) and slow down to this. */
const LONGEST_POLL_MS = 2_000;

/**
 * A Databricks SQL warehouse, through the SQL Statement Execution API: the statement is posted
 * (INLINE, JSON_ARRAY), polled while PENDING or RUNNING, then its result chunks are followed by
 * `next_chunk_internal_link` and handed over `chunkSize` rows at a time. Parameters are named
 * markers (`:p1`), never pasted into the SQL.
 */
export class DatabricksSource implements WarehouseSource {
  readonly type = 'databricks';
  private readonly client: DatabricksClient;

  constructor(readonly name: string, private readonly settings: DatabricksSettings) {
    this.client = new DatabricksClient(settings.host, settings.token);
  }

  async check(signal: AbortSignal): Promise<void> {
    for await (const _ of this.read('SELECT 1', { chunkSize: 1, signal })) { /* one chunk is the answer */ }
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const { chunkSize, signal } = options;
    signal.throwIfAborted();
    let statementId: string | undefined;
    let finished = false;
    try {
      let response = await this.client.call<StatementResponse>('POST', STATEMENTS, {
        statement: sql,
        warehouse_id: this.settings.warehouseId,
        ...(this.settings.catalog ? { catalog: this.settings.catalog } : {}),
        ...(this.settings.schema ? { schema: this.settings.schema } : {}),
        parameters: (options.params ?? []).map((value: Value, i) => databricksParameter(i + 1, value)),
        wait_timeout: `${this.settings.waitTimeout ?? 10}s`,
        on_wait_timeout: 'CONTINUE',
        disposition: this.settings.disposition,
        format: 'JSON_ARRAY',
      }, signal);
      statementId = response.statement_id;
      for (let poll = 0; response.status.state === 'PENDING' || response.status.state === 'RUNNING'; poll++) {
        await sleep(Math.min(100 * 2 ** poll, LONGEST_POLL_MS), signal);
        response = await this.client.call<StatementResponse>('GET', `${STATEMENTS}/${encodeURIComponent(statementId)}`, undefined, signal);
      }
      if (response.status.state !== 'SUCCEEDED') throw this.statementFailed(response);
      finished = true;
      if (response.manifest?.truncated) {
        throw new RunError(`source "${this.name}": Databricks truncated the result (a row or byte limit); the model was not read whole`);
      }
      const described = (response.manifest?.schema?.columns ?? []).map(databricksColumn);
      const columns = described.map((d) => d.column);
      let pending: Row[] = [];
      let yielded = false;
      let data: ResultData | undefined = response.result;
      while (data) {
        const rows = data.external_links ? await this.download(statementId, data.external_links, signal) : data.data_array ?? [];
        for (const raw of rows) pending.push(toRow(raw, columns, described.map((d) => d.convert)));
        while (pending.length >= chunkSize) {
          yielded = true;
          yield { columns, rows: pending.slice(0, chunkSize) };
          pending = pending.slice(chunkSize);
        }
        const link = data.external_links?.at(-1)?.next_chunk_internal_link ?? data.next_chunk_internal_link;
        data = link ? await this.client.call<ResultData>('GET', link, undefined, signal) : undefined;
      }
      if (pending.length > 0 || !yielded) yield { columns, rows: pending };
    } catch (error) {
      // A statement still running when the read stops is cancelled, not left to use the warehouse.
      if (statementId && !finished) void this.cancel(statementId);
      if (signal.aborted) throw signal.reason;
      if (error instanceof RunError) throw error;
      throw this.failure(error);
    }
  }

  readonly fingerprintSql = databricksDialect;

  /** For diff: warehouse: statements through the API, one after another. */
  openSession(): WarehouseSession {
    return databricksSession(this);
  }

  /**
   * The rows behind EXTERNAL_LINKS. A link lives at most 15 minutes: one refused as expired
   * (a slow consumer) is asked for again by its chunk index, once.
   */
  private async download(statementId: string, links: ExternalLink[], signal: AbortSignal): Promise<(string | null)[][]> {
    const rows: (string | null)[][] = [];
    for (const link of links) {
      try {
        rows.push(...await fetchExternalLink(link, signal));
      } catch (error) {
        if (!(error instanceof ExternalLinkError && error.status === 403)) throw error;
        const fresh = await this.client.call<ResultData>('GET', `${STATEMENTS}/${encodeURIComponent(statementId)}/result/chunks/${link.chunk_index}`, undefined, signal);
        for (const again of fresh.external_links ?? []) rows.push(...await fetchExternalLink(again, signal));
      }
    }
    return rows;
  }

  /** `:p1`, `:p2` … named parameter markers. */
  placeholder(index: number): string {
    return `:p${index}`;
  }

  /** Backticks, as Databricks SQL quotes names; a backtick inside is doubled. */
  readonly quoteIdentifier = databricksQuote;

  /** `orders`, `sales.orders` or `main.sales.orders` (catalog.schema.table): each part quoted. */
  tableQuery(table: string): string {
    return `SELECT * FROM ${table.split('.').map((part) => this.quoteIdentifier(part)).join('.')}`;
  }

  async close(): Promise<void> {}

  private async cancel(statementId: string): Promise<void> {
    await this.client.call('POST', `${STATEMENTS}/${encodeURIComponent(statementId)}/cancel`, {}, AbortSignal.timeout(10_000)).catch(() => {});
  }

  private statementFailed(response: StatementResponse): RunError {
    const { state, error } = response.status;
    const why = error ? `${error.error_code ?? 'UNKNOWN'}: ${error.message ?? ''}` : 'no reason given';
    return new RunError(`source "${this.name}": the statement ended ${state} on warehouse ${this.settings.warehouseId}: ${redact(why, [this.settings.token])}`);
  }

  private failure(error: unknown): RunError {
    let what = error instanceof Error ? error.message : String(error);
    if (error instanceof DatabricksApiError && (error.status === 401 || error.status === 403)) {
      what = `Databricks refused the token (${what}); check token, and that it may use warehouse ${this.settings.warehouseId}`;
    } else if (!(error instanceof DatabricksApiError)) {
      what = `cannot reach Databricks at ${this.settings.host}: ${what}${error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : ''}`;
    }
    return new RunError(`source "${this.name}": the query failed: ${redact(what, [this.settings.token])}`, { cause: error });
  }
}

function toRow(raw: (string | null)[], columns: Column[], converters: ((text: string) => Value)[]): Row {
  const row: Row = {};
  for (let c = 0; c < columns.length; c++) {
    const text = raw[c];
    row[columns[c]!.name] = text === null || text === undefined ? null : converters[c]!(text);
  }
  return row;
}
