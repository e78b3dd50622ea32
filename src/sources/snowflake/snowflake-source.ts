import { RunError } from '../../errors.ts';
import { quoteIdentifier, selectFromTable } from '../../sql-identifier.ts';
import type { Column, ReadOptions, Row, RowChunk, Source, Value } from '../source.ts';
import { messageOf, type WarehouseRetry } from '../warehouse-http.ts';
import { SnowflakeAuth } from './snowflake-auth.ts';
import { SnowflakeApiError, SnowflakeClient } from './snowflake-client.ts';
import { snowflakeBinding, snowflakeColumn, type SnowflakeBinding } from './snowflake-values.ts';
import type { SnowflakeSettings } from './snowflake-type.ts';
import { snowflakeSession } from './snowflake-session.ts';
import { snowflakeDialect } from '../../diff/warehouse/snowflake-dialect.ts';
import type { WarehouseSession, WarehouseSource } from '../../diff/warehouse/warehouse-session.ts';

type Convert = (text: string) => Value;

/**
 * A Snowflake account, read through the SQL API v2. A read runs the model's SQL as one
 * statement; its result comes in partitions, fetched `partitionConcurrency` at a time ahead
 * of the one being handed over, so memory holds at most that many partitions.
 */
export class SnowflakeSource implements Source, WarehouseSource {
  readonly type = 'snowflake';
  private readonly client: SnowflakeClient;
  private readonly auth: SnowflakeAuth;

  constructor(readonly name: string, private readonly settings: SnowflakeSettings, retry?: WarehouseRetry) {
    this.auth = new SnowflakeAuth(settings);
    this.client = new SnowflakeClient(settings, this.auth, retry);
  }

  async check(signal: AbortSignal): Promise<void> {
    try {
      await this.client.execute('SELECT 1', {}, signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.failure(`cannot run a query at ${this.client.baseUrl}`, error);
    }
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const { chunkSize, signal } = options;
    if (!(chunkSize >= 1)) throw new Error(`chunkSize must be at least 1, got ${chunkSize}`);
    const bindings: Record<string, SnowflakeBinding> = {};
    (options.params ?? []).forEach((value, i) => { bindings[String(i + 1)] = snowflakeBinding(value); });
    let handle: string | undefined;
    let finished = false;
    // Ends the partition fetches still in flight when the read stops early.
    const done = new AbortController();
    const fetches = AbortSignal.any([signal, done.signal]);
    try {
      const result = await this.client.execute(sql, bindings, signal);
      handle = result.statementHandle;
      const described = result.resultSetMetaData.rowType.map(snowflakeColumn);
      const columns = described.map((d) => d.column);
      const converters = described.map((d) => d.convert);
      const partitions = result.resultSetMetaData.partitionInfo?.length ?? 1;
      let rows: Row[] = [];
      let yielded = false;
      for await (const data of this.partitions(result.statementHandle, result.data, partitions, fetches)) {
        for (const raw of data) {
          rows.push(toRow(raw, columns, converters));
          if (rows.length === chunkSize) {
            yielded = true;
            yield { columns, rows };
            rows = [];
          }
        }
      }
      if (rows.length > 0 || !yielded) yield { columns, rows };
      finished = true;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.failure('the query failed', error);
    } finally {
      done.abort();
      // A read stopped early (aborted, or its reader broke off) leaves nothing running.
      if (!finished && handle) this.client.cancel(handle);
    }
  }

  /**
   * Partition 0 (already here), then 1…n-1 in order, each fetched up to `partitionConcurrency`
   * partitions before it is needed.
   */
  private async *partitions(handle: string, first: (string | null)[][], count: number, signal: AbortSignal): AsyncIterable<(string | null)[][]> {
    yield first;
    const ahead = this.settings.partitionConcurrency ?? 4;
    const inFlight = new Map<number, Promise<(string | null)[][]>>();
    const start = (index: number) => {
      if (index >= count || inFlight.has(index)) return;
      const fetching = this.client.partition(handle, index, signal);
      fetching.catch(() => {}); // awaited in order below; a later failure must not go unhandled meanwhile
      inFlight.set(index, fetching);
    };
    for (let index = 1; index < count; index++) {
      for (let next = index; next < index + ahead; next++) start(next);
      const data = await inFlight.get(index)!;
      inFlight.delete(index);
      yield data;
    }
  }

  /** Snowflake takes `?` (and `:1`) in the SQL API; `?` is also what DuckDB reads. */
  placeholder(_index: number): string {
    return '?';
  }

  readonly quoteIdentifier = quoteIdentifier;

  /**
   * `customers`, `analytics.customers` or `db.analytics.customers`. A plain name stays unquoted,
   * so Snowflake resolves it as it resolves a name in a query (`customers` finds CUSTOMERS);
   * any other part is quoted and matched exactly.
   */
  tableQuery(table: string): string {
    return selectFromTable(table, (part) => (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(part) ? part : quoteIdentifier(part)));
  }

  readonly fingerprintSql = snowflakeDialect;

  /** For diff: warehouse and diff: engine: statements through the SQL API, grouped ones as one multi-statement request. */
  openSession(): WarehouseSession {
    return snowflakeSession(this, async (statements) => {
      try {
        await this.client.execute(statements.join(';\n'), {}, new AbortController().signal, { MULTI_STATEMENT_COUNT: String(statements.length) });
      } catch (error) {
        throw this.failure('the statements failed', error);
      }
    });
  }

  async close(): Promise<void> {}

  private failure(what: string, error: unknown): RunError {
    const detail = error instanceof SnowflakeApiError ? error.message : `Snowflake: ${messageOf(error)}`;
    const hint = error instanceof SnowflakeApiError && error.status === 401 ? `; check the ${this.auth.kind === 'KEYPAIR_JWT' ? 'user, its RSA_PUBLIC_KEY and account' : 'OAuth token'}` : '';
    return new RunError(`source "${this.name}": ${what}: ${detail}${hint}`, { cause: error });
  }
}

function toRow(raw: (string | null)[], columns: Column[], converters: Convert[]): Row {
  const row: Row = {};
  for (let c = 0; c < columns.length; c++) {
    const text = raw[c];
    row[columns[c]!.name] = text === null || text === undefined ? null : converters[c]!(text);
  }
  return row;
}
