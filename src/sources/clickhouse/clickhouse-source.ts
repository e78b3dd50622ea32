import { RunError } from '../../errors.ts';
import { redact } from '../../config/redact.ts';
import type { Column, ReadOptions, Row, RowChunk, Value } from '../source.ts';
import { clickhouseColumn, clickhouseParameter } from './clickhouse-values.ts';
import type { ClickhouseSettings } from './clickhouse-type.ts';
import { clickhouseFingerprint, clickhouseKey, clickhouseQuote } from '../../diff/fingerprint/clickhouse-fingerprint.ts';
import type { FingerprintSource, FingerprintSql } from '../../diff/warehouse/warehouse-session.ts';

/**
 * What `diff: engine` asks of ClickHouse. There is no `diff: warehouse`: ClickHouse has no
 * transactions (the row state of an acknowledged batch must commit whole) and no upsert but
 * merges that run when they run (diff-method.ts says so to the user).
 */
const FINGERPRINT_SQL: FingerprintSql = {
  name: 'clickhouse',
  quote: clickhouseQuote,
  placeholder: (index) => `{p${index}:String}`,
  fingerprint: clickhouseFingerprint,
  asText: (expr) => `toString(${expr})`,
  key: clickhouseKey,
};

const FORMAT = 'JSONCompactEachRowWithNamesAndTypes';

/**
 * What the output must look like for values to keep their meaning: 64-bit integers and
 * decimals quoted (JSON numbers would round them), instants in ISO form in UTC, named tuples as
 * objects. Sent with every query, whatever the server's defaults.
 */
const OUTPUT_SETTINGS = {
  output_format_json_quote_64bit_integers: '1',
  output_format_json_quote_decimals: '1',
  output_format_json_named_tuples_as_objects: '1',
  date_time_output_format: 'iso',
};

/**
 * A ClickHouse server over its HTTP interface. The model's SQL is sent in the POST body, with
 * `FORMAT JSONCompactEachRowWithNamesAndTypes`: names, then types, then one JSON array a row,
 * parsed line by line as the answer streams, so memory stays bounded by `chunkSize`.
 * Parameters are ClickHouse query parameters (`{p1:String}` retyped by value, `param_p1=…`).
 */
export class ClickhouseSource implements FingerprintSource {
  readonly type = 'clickhouse';
  readonly fingerprintSql = FINGERPRINT_SQL;

  constructor(readonly name: string, private readonly settings: ClickhouseSettings) {}

  async check(signal: AbortSignal): Promise<void> {
    for await (const _ of this.read('SELECT 1', { chunkSize: 1, signal })) { /* answered */ }
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const { chunkSize, signal } = options;
    signal.throwIfAborted();
    const url = new URL(this.settings.url);
    for (const [key, value] of Object.entries(OUTPUT_SETTINGS)) url.searchParams.set(key, value);
    if (this.settings.database) url.searchParams.set('database', this.settings.database);
    const params = options.params ?? [];
    const typed = params.map(clickhouseParameter);
    params.forEach((value, i) => url.searchParams.set(`param_p${i + 1}`, value === null ? '\\N' : escapeParam(typed[i]!.text)));
    // `{pN:String}` as placeholder() writes it becomes the type the value has.
    const query = sql.replace(/[\s;]+$/, '').replace(/\{p(\d+):String\}/g, (whole, n) => (typed[Number(n) - 1] ? `{p${n}:${typed[Number(n) - 1]!.type}}` : whole));
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'X-ClickHouse-User': this.settings.user ?? 'default',
          ...(this.settings.password ? { 'X-ClickHouse-Key': this.settings.password } : {}),
          'content-type': 'text/plain; charset=utf-8',
        },
        body: `SELECT * FROM (\n${query}\n) FORMAT ${FORMAT}`,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw this.failure(`cannot reach ClickHouse at ${url.origin}: ${causeOf(error)}`, error);
    }
    if (!response.ok) throw this.failure(serverError(response.headers.get('x-clickhouse-exception-code'), await response.text(), response.status));

    let names: string[] | undefined;
    let columns: Column[] = [];
    let converters: ((value: unknown) => Value)[] = [];
    let pending: Row[] = [];
    let yielded = false;
    try {
      for await (const line of lines(response.body!)) {
        let parsed: unknown[];
        try {
          parsed = JSON.parse(line) as unknown[];
        } catch {
          // Once the answer has started (HTTP 200), a failure arrives as the body's last text.
          throw this.failure(serverError(/Code: (\d+)/.exec(line)?.[1] ?? null, line, 200));
        }
        if (!names) { names = parsed as string[]; continue; }
        if (columns.length === 0 && names.length > 0) {
          const described = names.map((name, i) => clickhouseColumn(name, String(parsed[i])));
          columns = described.map((d) => d.column);
          converters = described.map((d) => d.convert);
          continue;
        }
        const row: Row = {};
        for (let c = 0; c < columns.length; c++) row[columns[c]!.name] = parsed[c] === null ? null : converters[c]!(parsed[c]);
        pending.push(row);
        if (pending.length >= chunkSize) {
          yielded = true;
          yield { columns, rows: pending };
          pending = [];
        }
      }
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof RunError) throw error;
      throw this.failure(`lost the answer mid-read: ${causeOf(error)}`, error);
    }
    if (pending.length > 0 || !yielded) yield { columns, rows: pending };
  }

  /** `{p1:String}`: read() gives it the type of the value bound to it. */
  placeholder(index: number): string {
    return `{p${index}:String}`;
  }

  /** Double quotes, which ClickHouse reads as an identifier; a quote or backslash inside escaped. */
  readonly quoteIdentifier = clickhouseQuote;

  /** `events` or `analytics.events` (database.table): each part quoted. */
  tableQuery(table: string): string {
    return `SELECT * FROM ${table.split('.').map((part) => this.quoteIdentifier(part)).join('.')}`;
  }

  async close(): Promise<void> {}

  private failure(what: string, cause?: unknown): RunError {
    return new RunError(`source "${this.name}": ${redact(what, this.settings.password ? [this.settings.password] : [])}`, { cause });
  }
}

/** `Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) (version …)` as a message. */
function serverError(code: string | null, body: string, status: number): string {
  const text = body.trim().replace(/\s*\(version [^)]*\)\s*$/, '').slice(0, 500);
  const hint = code === '516' || code === '192' || code === '193' ? ' (check user and password)' : '';
  return `ClickHouse answered HTTP ${status}${code ? `, exception code ${code}` : ''}${hint}: ${text}`;
}

/** Query parameter values are read in ClickHouse's escaped text form. */
function escapeParam(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n');
}

async function* lines(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    const parts = (rest + decoder.decode(bytes, { stream: true })).split('\n');
    rest = parts.pop()!;
    for (const line of parts) if (line) yield line;
  }
  rest += decoder.decode();
  if (rest.trim()) yield rest;
}

function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}
