import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CLICKHOUSE_MACROS, clickhouseToDuckdb } from './clickhouse-functions.ts';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

/**
 * A ClickHouse server's HTTP interface, as its documentation describes it
 * (clickhouse.com/docs/interfaces/http), running the SQL on DuckDB:
 *
 * - the query in the POST body (or `?query=`), ending in `FORMAT <name>`; settings and
 *   `database` as URL parameters; credentials in X-ClickHouse-User / X-ClickHouse-Key
 * - query parameters `{name:Type}` bound from `param_name=` (values in escaped text form)
 * - FORMAT JSONCompactEachRowWithNamesAndTypes: a JSON array of names, one of types, then one
 *   array a row, streamed; Int64/UInt64 quoted unless output_format_json_quote_64bit_integers=0,
 *   decimals quoted only with output_format_json_quote_decimals=1, DateTime64 in ISO UTC only
 *   with date_time_output_format=iso (else 'YYYY-MM-DD hh:mm:ss' in the server's zone)
 * - errors: an HTTP status with X-ClickHouse-Exception-Code and a `Code: N. DB::Exception: …`
 *   body; an error after the answer started is appended to the body (status 200 already sent)
 *
 * The fake's own: `failAfterRows` (the query fails after that many rows, as a memory limit
 * would), and the server zone Asia/Kolkata, so output not asked for in UTC shows it.
 */
export interface ClickhouseFakeOptions {
  user: string;
  password: string;
  failAfterRows?: number;
}

export interface ClickhouseRequest {
  query: string;
  params: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

const VERSION = '24.3.1.1';

export class ClickhouseFake {
  readonly requests: ClickhouseRequest[] = [];
  url = '';
  private readonly server: http.Server;
  private instance?: DuckDBInstance;
  private connection?: DuckDBConnection;

  constructor(readonly options: ClickhouseFakeOptions) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.answer(req, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  async start(): Promise<this> {
    this.instance = await DuckDBInstance.create(':memory:');
    this.connection = await this.instance.connect();
    await this.connection.run(`SET TimeZone = 'Asia/Kolkata'`);
    await this.connection.run(CLICKHOUSE_MACROS);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async sql(statement: string): Promise<void> {
    await this.connection!.run(statement);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.connection?.closeSync();
    this.instance?.closeSync();
  }

  private async answer(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = url.searchParams.get('query') ?? body;
    this.requests.push({ query, params: url.searchParams, headers: req.headers });
    const fail = (status: number, code: number, name: string, message: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=UTF-8', 'x-clickhouse-exception-code': String(code) });
      res.end(`Code: ${code}. DB::Exception: ${message}. (${name}) (version ${VERSION})\n`);
    };
    const user = req.headers['x-clickhouse-user'] ?? url.searchParams.get('user') ?? 'default';
    const key = req.headers['x-clickhouse-key'] ?? url.searchParams.get('password') ?? '';
    if (user !== this.options.user || key !== this.options.password) {
      return fail(403, 516, 'AUTHENTICATION_FAILED', `${user}: Authentication failed: password is incorrect, or there is no user with such name`);
    }
    const format = /\sFORMAT\s+(\w+)\s*;?\s*$/i.exec(query);
    if (!format) return fail(400, 62, 'SYNTAX_ERROR', 'this fake answers queries ending in FORMAT <name> only');
    if (format[1] !== 'JSONCompactEachRowWithNamesAndTypes') return fail(400, 73, 'UNKNOWN_FORMAT', `Unknown format ${format[1]}`);
    const settings = url.searchParams;

    let names: string[];
    let types: DuckDBType[];
    let sql: string;
    let values: Record<string, DuckDBValue>;
    try {
      ({ sql, values } = bindParameters(clickhouseToDuckdb(query.slice(0, format.index)), settings));
      const described = await this.connection!.runAndReadAll(`SELECT * FROM (${sql}) AS q LIMIT 0`, values);
      names = described.columnNames();
      types = names.map((_, i) => described.columnType(i));
    } catch (error) {
      const message = (error as Error).message;
      if (/Table with name|does not exist/.test(message)) return fail(404, 60, 'UNKNOWN_TABLE', message.split('\n')[0]!);
      if (/Parser Error|syntax error/i.test(message)) return fail(400, 62, 'SYNTAX_ERROR', message.split('\n')[0]!);
      return fail(400, 47, 'UNKNOWN_IDENTIFIER', message.split('\n')[0]!);
    }
    const iso = settings.get('date_time_output_format') === 'iso';
    const quote64 = settings.get('output_format_json_quote_64bit_integers') !== '0';
    const quoteDecimals = settings.get('output_format_json_quote_decimals') === '1';
    const columns = names.map((name, i) => render(`q."${name.replaceAll('"', '""')}"`, types[i]!, { iso, quote64, quoteDecimals }));
    const result = await this.connection!.stream(`SELECT ${columns.join(', ') || '1'} FROM (${sql}) AS q`, values);

    res.writeHead(200, {
      'content-type': 'application/json; charset=UTF-8',
      'x-clickhouse-format': 'JSONCompactEachRowWithNamesAndTypes',
      'x-clickhouse-query-id': randomUUID(),
      'x-clickhouse-server-display-name': 'fake',
    });
    res.write(`${JSON.stringify(names)}\n${JSON.stringify(types.map(clickhouseTypeName))}\n`);
    let sent = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const lines: string[] = [];
      for (const row of chunk.getRows()) {
        if (this.options.failAfterRows !== undefined && sent === this.options.failAfterRows) {
          res.write(lines.join(''));
          res.end(`Code: 241. DB::Exception: Memory limit (total) exceeded: would use 9.31 GiB, maximum: 9.31 GiB. (MEMORY_LIMIT_EXCEEDED) (version ${VERSION})\n`);
          return;
        }
        lines.push(`[${row.map((v) => (v === null ? 'null' : String(v))).join(',')}]\n`);
        sent++;
      }
      // Backpressure: a client reading slowly holds the server back, as a socket would.
      if (!res.write(lines.join(''))) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  }
}

/** `{name:Type}` markers to DuckDB `$name`, each value read from `param_name` as its type. */
function bindParameters(query: string, settings: URLSearchParams): { sql: string; values: Record<string, DuckDBValue> } {
  const values: Record<string, DuckDBValue> = {};
  const sql = query.replace(/('(?:[^'\\]|\\.)*')|\{(\w+):([^}]+)\}/g, (whole, quoted, name, type) => {
    if (quoted) return whole;
    const raw = settings.get(`param_${name}`);
    if (raw === null) throw new Error(`Substitution \`${name}\` is not set`);
    const text = raw === '\\N' ? null : raw.replace(/\\(.)/g, (_, c: string) => ({ t: '\t', n: '\n' } as Record<string, string>)[c] ?? c);
    const inner = /^Nullable\((.*)\)$/.exec(type)?.[1] ?? type;
    values[name] = text === null ? null : /^U?Int(8|16|32|64)$/.test(inner) ? BigInt(text) : inner === 'Float64' ? Number(text) : inner === 'Bool' ? text === 'true' : text;
    const duckType = /^DateTime64\(\d+,\s*'UTC'\)$/.test(inner) ? 'TIMESTAMPTZ' : /^U?Int/.test(inner) ? 'BIGINT' : inner === 'Float64' ? 'DOUBLE' : inner === 'Bool' ? 'BOOLEAN' : 'VARCHAR';
    // A DateTime64(…, 'UTC') parameter is a wall clock in UTC: so DuckDB must read it.
    return duckType === 'TIMESTAMPTZ' ? `CAST($${name} || '+00' AS TIMESTAMPTZ)` : `CAST($${name} AS ${duckType})`;
  });
  return { sql, values };
}

function clickhouseTypeName(type: DuckDBType): string {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return 'Bool';
    case DuckDBTypeId.TINYINT: return 'Int8';
    case DuckDBTypeId.SMALLINT: return 'Int16';
    case DuckDBTypeId.INTEGER: return 'Int32';
    case DuckDBTypeId.BIGINT: return 'Int64';
    case DuckDBTypeId.UTINYINT: return 'UInt8';
    case DuckDBTypeId.USMALLINT: return 'UInt16';
    case DuckDBTypeId.UINTEGER: return 'UInt32';
    case DuckDBTypeId.UBIGINT: return 'UInt64';
    case DuckDBTypeId.HUGEINT: return 'Int128';
    case DuckDBTypeId.FLOAT: return 'Float32';
    case DuckDBTypeId.DOUBLE: return 'Float64';
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as unknown as { width: number; scale: number };
      return `Decimal(${width}, ${scale})`;
    }
    case DuckDBTypeId.DATE: return 'Date32';
    case DuckDBTypeId.TIMESTAMP: case DuckDBTypeId.TIMESTAMP_TZ: return 'DateTime64(6)';
    case DuckDBTypeId.LIST: return `Array(${clickhouseTypeName((type as unknown as { valueType: DuckDBType }).valueType)})`;
    case DuckDBTypeId.STRUCT: {
      const { entryNames, entryTypes } = type as unknown as { entryNames: string[]; entryTypes: DuckDBType[] };
      return `Tuple(${entryNames.map((n, i) => `${n} ${clickhouseTypeName(entryTypes[i]!)}`).join(', ')})`;
    }
    case DuckDBTypeId.MAP: {
      const { keyType, valueType } = type as unknown as { keyType: DuckDBType; valueType: DuckDBType };
      return `Map(${clickhouseTypeName(keyType)}, ${clickhouseTypeName(valueType)})`;
    }
    default: return 'String';
  }
}

/** One value as JSON text, the way the settings ask for it. */
function render(ref: string, type: DuckDBType, how: { iso: boolean; quote64: boolean; quoteDecimals: boolean }): string {
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT: case DuckDBTypeId.UBIGINT: case DuckDBTypeId.HUGEINT:
      return how.quote64 ? `to_json(CAST(${ref} AS VARCHAR))` : `CAST(${ref} AS VARCHAR)`;
    case DuckDBTypeId.DECIMAL:
      return how.quoteDecimals ? `to_json(CAST(${ref} AS VARCHAR))` : `CAST(${ref} AS VARCHAR)`;
    case DuckDBTypeId.TIMESTAMP_TZ: case DuckDBTypeId.TIMESTAMP: {
      // ClickHouse has only instants: a zoneless DuckDB timestamp is one in the server's zone.
      const instant = type.typeId === DuckDBTypeId.TIMESTAMP ? `CAST(${ref} AS TIMESTAMPTZ)` : ref;
      return how.iso
        ? `to_json(strftime(${instant} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ'))`
        : `to_json(strftime(${instant}, '%Y-%m-%d %H:%M:%S.%f'))`;
    }
    default: return `CAST(to_json(${ref}) AS VARCHAR)`;
  }
}
