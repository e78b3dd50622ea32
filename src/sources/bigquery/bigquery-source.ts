import { RunError } from '../../errors.ts';
import { selectFromTable } from '../../sql-identifier.ts';
import type { Column, ReadOptions, Row, RowChunk, Source, Value } from '../source.ts';
import { messageOf, type WarehouseRetry } from '../warehouse-http.ts';
import { BigqueryAuthError } from './bigquery-auth.ts';
import { BigqueryApiError, BigqueryClient, type BigqueryPage } from './bigquery-client.ts';
import { bigqueryColumn, bigqueryParameter, type BigqueryCell } from './bigquery-values.ts';
import type { BigquerySettings } from './bigquery-type.ts';

type Convert = (raw: unknown) => Value;

/**
 * A BigQuery project, read through the REST API: the model's SQL runs as one query job
 * (standard SQL), its rows come a page at a time by pageToken, each page fetched while the
 * previous one is handed over.
 */
export class BigquerySource implements Source {
  readonly type = 'bigquery';
  private client?: BigqueryClient;

  constructor(readonly name: string, private readonly settings: BigquerySettings, private readonly retry?: WarehouseRetry) {}

  async check(signal: AbortSignal): Promise<void> {
    try {
      await this.connect().query('SELECT 1', [], signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.failure('cannot run a query', error);
    }
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const { chunkSize, signal } = options;
    if (!(chunkSize >= 1)) throw new Error(`chunkSize must be at least 1, got ${chunkSize}`);
    let client: BigqueryClient;
    try {
      client = this.connect();
    } catch (error) {
      throw this.failure('cannot sign in', error);
    }
    let job: BigqueryPage['jobReference'] | undefined;
    let finished = false;
    try {
      let page: BigqueryPage = await client.query(sql, (options.params ?? []).map(bigqueryParameter), signal);
      job = page.jobReference;
      const described = (page.schema?.fields ?? []).map(bigqueryColumn);
      const columns = described.map((d) => d.column);
      const converters = described.map((d) => d.convert);
      let rows: Row[] = [];
      let yielded = false;
      for (;;) {
        // The next page is on its way while this one is converted and handed over.
        const next = page.pageToken ? client.results(page.jobReference, page.pageToken, signal) : undefined;
        next?.catch(() => {});
        for (const raw of page.rows ?? []) {
          rows.push(toRow(raw.f, columns, converters));
          if (rows.length === chunkSize) {
            yielded = true;
            yield { columns, rows };
            rows = [];
          }
        }
        if (!next) break;
        page = await next;
      }
      if (rows.length > 0 || !yielded) yield { columns, rows };
      finished = true;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.failure('the query failed', error);
    } finally {
      // A read stopped early (aborted, or its reader broke off) leaves no job running.
      if (!finished && job) client.cancel(job);
    }
  }

  /** BigQuery's standard SQL takes positional parameters as `?`. */
  placeholder(_index: number): string {
    return '?';
  }

  /** Backquotes, a backslash escaping a backquote or backslash inside. */
  quoteIdentifier(name: string): string {
    return `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
  }

  /** `customers` (in `dataset`), `analytics.customers` or `project.analytics.customers`: each part quoted. */
  tableQuery(table: string): string {
    return selectFromTable(table, (part) => this.quoteIdentifier(part));
  }

  async close(): Promise<void> {}

  private connect(): BigqueryClient {
    this.client ??= new BigqueryClient(this.settings, this.retry);
    return this.client;
  }

  private failure(what: string, error: unknown): RunError {
    if (error instanceof BigqueryAuthError) return new RunError(`source "${this.name}": ${error.message}; check credentials`, { cause: error });
    const detail = error instanceof BigqueryApiError ? error.message : `BigQuery: ${messageOf(error)}`;
    return new RunError(`source "${this.name}": ${what}: ${detail}`, { cause: error });
  }
}

function toRow(cells: BigqueryCell[], columns: Column[], converters: Convert[]): Row {
  const row: Row = {};
  for (let c = 0; c < columns.length; c++) {
    const v = cells[c]?.v;
    row[columns[c]!.name] = v === null || v === undefined ? null : converters[c]!(v);
  }
  return row;
}
