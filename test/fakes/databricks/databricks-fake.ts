import { randomUUID } from 'node:crypto';
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { FakeApiServer, type ApiAnswer, type ApiRequest } from '../fake-api-server.ts';
import { isQuery } from '../fake-warehouse-engine.ts';
import { DATABRICKS_MACROS } from './databricks-functions.ts';

/**
 * A Databricks SQL warehouse behind the SQL Statement Execution API 2.0, as its reference
 * describes it (docs.databricks.com/api/workspace/statementexecution), running the SQL on DuckDB:
 *
 * - POST /api/2.0/sql/statements { statement, warehouse_id, catalog?, schema?, parameters?,
 *   wait_timeout ("0s" or "5s"–"50s"), on_wait_timeout, disposition INLINE, format JSON_ARRAY }
 * - GET /api/2.0/sql/statements/{id}; GET …/{id}/result/chunks/{n}; POST …/{id}/cancel
 * - a StatementResponse { statement_id, status { state, error { error_code, message } },
 *   manifest { format, schema { column_count, columns [{ name, position, type_name, type_text,
 *   type_precision, type_scale }] }, total_chunk_count, chunks, total_row_count, truncated },
 *   result { chunk_index, row_offset, row_count, data_array, next_chunk_index, next_chunk_internal_link } }
 * - every value in data_array a string or null; TIMESTAMP as a UTC ISO instant, BINARY base64,
 *   ARRAY / MAP / STRUCT as JSON text
 * - HTTP errors as { error_code, message }: 403 PERMISSION_DENIED for a bad token, 400
 *   INVALID_PARAMETER_VALUE, 404 RESOURCE_DOES_NOT_EXIST, 429 REQUEST_LIMIT_EXCEEDED (inject()).
 *
 * - disposition EXTERNAL_LINKS: `result.external_links` [{ chunk_index, row_offset, row_count,
 *   byte_count, external_link, expiration, next_chunk_index, next_chunk_internal_link }]; each link
 *   a presigned URL of the fake's storage (`/fake-storage/…`), which answers the chunk as a JSON
 *   array of rows, refuses a request that also carries an Authorization header (400, as S3 does:
 *   "Only one auth mechanism allowed") and an expired link (403 "Request has expired")
 * - INLINE results over 25 MiB abort the statement (FAILED), as the docs say
 *
 * What is the fake's own: `runningPolls` (how many GETs a statement stays PENDING/RUNNING
 * after its wait_timeout, which here always expires at once when polls are asked for),
 * `rowsPerChunk` (Databricks cuts chunks by bytes, several MB each), `inlineByteLimit` (to test
 * the 25 MiB limit without 25 MiB), `linkTtlMs` (links live up to 15 minutes) and
 * `expireNextLinks()`, and the wording
 * of the inline limit's error, which the docs do not give.
 */
export interface DatabricksFakeOptions {
  token: string;
  warehouseId: string;
  runningPolls?: number;
  rowsPerChunk?: number;
  inlineByteLimit?: number;
  linkTtlMs?: number;
}

const INLINE_LIMIT = 25 * 1024 * 1024;

interface Statement {
  id: string;
  polls: number;
  state: 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'CLOSED';
  error?: { error_code: string; message: string };
  columns: Record<string, unknown>[];
  rows: (string | null)[][];
  disposition: 'INLINE' | 'EXTERNAL_LINKS';
}

export class DatabricksFake {
  readonly server: FakeApiServer;
  readonly statements = new Map<string, Statement>();
  /** Result rows handed out (inline chunks and downloads), so a test can count what left the warehouse. */
  rowsReturned = 0;
  /** Bodies of every POST /statements, for tests to check what was sent. */
  readonly posted: Record<string, any>[] = [];
  private connection?: DuckDBConnection;
  private instance?: DuckDBInstance;
  private expiredLinks = 0;

  constructor(readonly options: DatabricksFakeOptions) {
    this.server = new FakeApiServer((request) => this.route(request));
  }

  get url(): string {
    return this.server.url;
  }

  async start(): Promise<this> {
    this.instance = await DuckDBInstance.create(':memory:');
    this.connection = await this.instance.connect();
    // The warehouse renders instants in UTC whatever its session zone: prove it with another one.
    await this.connection.run(`SET TimeZone = 'Asia/Kolkata'`);
    await this.connection.run(DATABRICKS_MACROS);
    await this.server.start();
    return this;
  }

  /** The next `count` links handed out are expired already, as a link read after its 15 minutes is. */
  expireNextLinks(count: number): void {
    this.expiredLinks = count;
  }

  /** Setup SQL, straight on the DuckDB behind the fake. */
  async sql(statement: string): Promise<void> {
    await this.connection!.run(statement);
  }

  async stop(): Promise<void> {
    await this.server.stop();
    this.connection?.closeSync();
    this.instance?.closeSync();
  }

  private async route(request: ApiRequest): Promise<ApiAnswer> {
    const stored = /^\/fake-storage\/([^/]+)\/(\d+)$/.exec(request.path);
    if (stored && request.method === 'GET') return this.download(request, stored[1]!, Number(stored[2]));
    if (request.headers.authorization !== `Bearer ${this.options.token}`) return error(403, 'PERMISSION_DENIED', 'Invalid access token.');
    const path = request.path;
    if (request.method === 'POST' && path === '/api/2.0/sql/statements') return this.execute(JSON.parse(request.body || '{}'));
    let match = /^\/api\/2\.0\/sql\/statements\/([^/]+)$/.exec(path);
    if (match && request.method === 'GET') return this.withStatement(match[1]!, (s) => this.poll(s));
    match = /^\/api\/2\.0\/sql\/statements\/([^/]+)\/cancel$/.exec(path);
    if (match && request.method === 'POST') {
      return this.withStatement(match[1]!, (s) => {
        // Still running (polls left): cancelled; a finished statement stays as it is.
        if (s.polls > 0 && s.state === 'SUCCEEDED') {
          s.state = 'CANCELED';
          s.polls = 0;
        }
        return { status: 200, body: {} };
      });
    }
    match = /^\/api\/2\.0\/sql\/statements\/([^/]+)\/result\/chunks\/(\d+)$/.exec(path);
    if (match && request.method === 'GET') {
      return this.withStatement(match[1]!, (s) => {
        if (s.state !== 'SUCCEEDED') return error(400, 'INVALID_PARAMETER_VALUE', `Statement ${s.id} is ${s.state}; no result to fetch.`);
        const index = Number(match![2]);
        if (index >= this.chunkCount(s)) return error(400, 'INVALID_PARAMETER_VALUE', `Chunk index ${index} is out of range.`);
        return { status: 200, body: this.resultData(s, index) };
      });
    }
    return error(404, 'ENDPOINT_NOT_FOUND', `No API found for '${request.method} ${path}'`);
  }

  private async execute(body: Record<string, any>): Promise<ApiAnswer> {
    this.posted.push(body);
    if (typeof body.statement !== 'string' || !body.statement) return error(400, 'INVALID_PARAMETER_VALUE', 'statement is required');
    if (body.warehouse_id !== this.options.warehouseId) {
      return error(404, 'RESOURCE_DOES_NOT_EXIST', `SQL warehouse ${body.warehouse_id} does not exist.`);
    }
    const wait = /^(\d+)s$/.exec(body.wait_timeout ?? '10s');
    if (!wait || (Number(wait[1]) !== 0 && (Number(wait[1]) < 5 || Number(wait[1]) > 50))) {
      return error(400, 'INVALID_PARAMETER_VALUE', `wait_timeout must be 0s or between 5s and 50s, got ${body.wait_timeout}`);
    }
    const disposition = body.disposition ?? 'INLINE';
    if ((disposition !== 'INLINE' && disposition !== 'EXTERNAL_LINKS') || (body.format ?? 'JSON_ARRAY') !== 'JSON_ARRAY') {
      return error(400, 'INVALID_PARAMETER_VALUE', 'this fake serves format JSON_ARRAY only, with disposition INLINE or EXTERNAL_LINKS');
    }
    const statement: Statement = { id: randomUUID(), polls: 0, state: 'SUCCEEDED', columns: [], rows: [], disposition };
    this.statements.set(statement.id, statement);
    try {
      await this.run(statement, body.statement, body.parameters ?? []);
    } catch (thrown) {
      statement.state = 'FAILED';
      statement.error = { error_code: 'BAD_REQUEST', message: `[SQL_ERROR] ${(thrown as Error).message}` };
    }
    const limit = this.options.inlineByteLimit ?? INLINE_LIMIT;
    if (statement.state === 'SUCCEEDED' && disposition === 'INLINE' && JSON.stringify(statement.rows).length > limit) {
      statement.state = 'FAILED';
      statement.rows = [];
      statement.error = { error_code: 'BAD_REQUEST', message: `The result exceeds the inline byte limit (${limit} bytes); use disposition EXTERNAL_LINKS` };
    }
    // The statement outlives the wait: the caller must poll.
    const runningPolls = this.options.runningPolls ?? 0;
    if (statement.state === 'SUCCEEDED' && (runningPolls > 0 || wait[1] === '0')) {
      statement.polls = Math.max(runningPolls, 1);
      return { status: 200, body: { statement_id: statement.id, status: { state: 'PENDING' } } };
    }
    return { status: 200, body: this.response(statement) };
  }

  private poll(statement: Statement): ApiAnswer {
    if (statement.polls > 0 && statement.state === 'SUCCEEDED') {
      statement.polls--;
      return { status: 200, body: { statement_id: statement.id, status: { state: 'RUNNING' } } };
    }
    return { status: 200, body: this.response(statement) };
  }

  private withStatement(id: string, answer: (statement: Statement) => ApiAnswer): ApiAnswer {
    const statement = this.statements.get(id);
    return statement ? answer(statement) : error(404, 'RESOURCE_DOES_NOT_EXIST', `Statement ${id} not found.`);
  }

  private response(s: Statement) {
    const base = { statement_id: s.id, status: { state: s.state, ...(s.error ? { error: s.error, sql_state: '42000' } : {}) } };
    if (s.state !== 'SUCCEEDED') return base;
    const count = this.chunkCount(s);
    const size = this.options.rowsPerChunk ?? 10_000;
    return {
      ...base,
      manifest: {
        format: 'JSON_ARRAY',
        schema: { column_count: s.columns.length, columns: s.columns },
        total_chunk_count: count,
        chunks: Array.from({ length: count }, (_, i) => ({ chunk_index: i, row_offset: i * size, row_count: Math.min(size, s.rows.length - i * size) })),
        total_row_count: s.rows.length,
        truncated: false,
      },
      result: this.resultData(s, 0),
    };
  }

  /** Chunk `index` as the statement's disposition hands it: its rows, or a link to them. */
  private resultData(s: Statement, index: number) {
    const data = this.chunk(s, index);
    if (s.disposition === 'INLINE') {
      this.rowsReturned += data.data_array?.length ?? 0;
      return data;
    }
    const { data_array: rows, ...link } = data;
    const ttl = this.expiredLinks > 0 ? (this.expiredLinks--, -1000) : this.options.linkTtlMs ?? 15 * 60_000;
    const expiration = new Date(Date.now() + ttl).toISOString();
    const signed = `X-Amz-Expires=900&X-Amz-Signature=${randomUUID().replaceAll('-', '')}&expires=${Date.parse(expiration)}`;
    return {
      external_links: [{
        ...link, byte_count: JSON.stringify(rows ?? []).length, expiration,
        external_link: `${this.url}/fake-storage/${s.id}/${index}?${signed}`,
      }],
    };
  }

  /** The presigned storage URL: no Authorization header wanted, and not once expired. */
  private download(request: ApiRequest, id: string, index: number): ApiAnswer {
    const xml = (status: number, code: string, message: string) => ({
      status, headers: { 'content-type': 'application/xml' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    });
    if (request.headers.authorization) {
      return xml(400, 'InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified');
    }
    const statement = this.statements.get(id);
    const expires = Number(request.query.get('expires'));
    if (!statement || !request.query.get('X-Amz-Signature')) return xml(403, 'AccessDenied', 'Access Denied');
    if (!(Date.now() < expires)) return xml(403, 'AccessDenied', 'Request has expired');
    const rows = this.chunk(statement, index).data_array ?? [];
    this.rowsReturned += rows.length;
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: JSON.stringify(rows) };
  }

  private chunkCount(s: Statement): number {
    return Math.max(1, Math.ceil(s.rows.length / (this.options.rowsPerChunk ?? 10_000)));
  }

  private chunk(s: Statement, index: number) {
    const size = this.options.rowsPerChunk ?? 10_000;
    const rows = s.rows.slice(index * size, (index + 1) * size);
    const next = index + 1 < this.chunkCount(s) ? index + 1 : undefined;
    return {
      chunk_index: index, row_offset: index * size, row_count: rows.length,
      ...(rows.length > 0 ? { data_array: rows } : {}),
      ...(next !== undefined ? {
        next_chunk_index: next,
        next_chunk_internal_link: `/api/2.0/sql/statements/${s.id}/result/chunks/${next}?row_offset=${next * size}`,
      } : {}),
    };
  }

  /** Runs the SQL: `:name` markers bound by name, every value rendered as Databricks renders it. */
  private async run(statement: Statement, sql: string, parameters: { name: string; value?: string; type?: string }[]): Promise<void> {
    const values: Record<string, DuckDBValue> = {};
    for (const p of parameters) values[p.name] = parameterValue(p);
    // Databricks SQL in DuckDB's words: `name` quoting becomes "name", :name markers $name.
    const duckSql = sql.replace(/('(?:[^']|'')*')|`((?:[^`]|``)*)`|(?<![:\w]):([A-Za-z_]\w*)/g, (whole, quoted, ticked, name) =>
      quoted ? whole : ticked !== undefined ? `"${ticked.replaceAll('``', '`').replaceAll('"', '""')}"` : `$${name}`);
    if (!isQuery(duckSql)) {
      // DDL answers no columns; DML the counts Databricks gives (num_affected_rows first).
      const done = await this.connection!.run(duckSql, values);
      const dml = /^\s*(INSERT|UPDATE|DELETE|MERGE)\b/i.test(duckSql);
      statement.columns = dml ? [{ name: 'num_affected_rows', position: 0, type_name: 'LONG', type_text: 'bigint' }] : [];
      statement.rows = dml ? [[String(done.rowsChanged)]] : [];
      return;
    }
    const described = await this.connection!.runAndReadAll(`SELECT * FROM (${duckSql}) AS q LIMIT 0`, values);
    const names = described.columnNames();
    const types = names.map((_, i) => described.columnType(i));
    statement.columns = names.map((name, i) => ({ name, position: i, ...databricksType(types[i]!) }));
    const select = names.map((name, i) => `${render(`q."${name.replaceAll('"', '""')}"`, types[i]!)} AS c${i}`).join(', ');
    const result = await this.connection!.runAndReadAll(`SELECT ${select || '1'} FROM (${duckSql}) AS q`, values);
    statement.rows = result.getRows().map((row) => names.map((_, i) => (row[i] === null ? null : String(row[i]))));
  }
}

function error(status: number, errorCode: string, message: string): ApiAnswer {
  return { status, body: { error_code: errorCode, message } };
}

function parameterValue(p: { value?: string; type?: string }): DuckDBValue {
  if (p.value === undefined) return null;
  switch ((p.type ?? 'STRING').toUpperCase()) {
    case 'BIGINT': case 'INT': return BigInt(p.value);
    case 'DOUBLE': return Number(p.value);
    case 'BOOLEAN': return p.value === 'true';
    default: return p.value;
  }
}

function databricksType(type: DuckDBType): Record<string, unknown> {
  const named = (type_name: string, type_text = type_name.toLowerCase()) => ({ type_name, type_text });
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return named('BOOLEAN');
    case DuckDBTypeId.TINYINT: return named('BYTE', 'tinyint');
    case DuckDBTypeId.SMALLINT: return named('SHORT', 'smallint');
    case DuckDBTypeId.INTEGER: return named('INT');
    case DuckDBTypeId.BIGINT: case DuckDBTypeId.HUGEINT: return named('LONG', 'bigint');
    case DuckDBTypeId.FLOAT: return named('FLOAT');
    case DuckDBTypeId.DOUBLE: return named('DOUBLE');
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as unknown as { width: number; scale: number };
      return { type_name: 'DECIMAL', type_text: `decimal(${width},${scale})`, type_precision: width, type_scale: scale };
    }
    case DuckDBTypeId.DATE: return named('DATE');
    case DuckDBTypeId.TIMESTAMP_TZ: return named('TIMESTAMP');
    case DuckDBTypeId.TIMESTAMP: return named('TIMESTAMP_NTZ');
    case DuckDBTypeId.BLOB: return named('BINARY');
    case DuckDBTypeId.LIST: case DuckDBTypeId.ARRAY: return named('ARRAY', type.toString().toLowerCase());
    case DuckDBTypeId.STRUCT: return named('STRUCT', type.toString().toLowerCase());
    case DuckDBTypeId.MAP: return named('MAP', type.toString().toLowerCase());
    default: return named('STRING');
  }
}

/** A column's value as the text JSON_ARRAY carries. */
function render(ref: string, type: DuckDBType): string {
  switch (type.typeId) {
    case DuckDBTypeId.TIMESTAMP_TZ: return `strftime(${ref} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')`;
    case DuckDBTypeId.TIMESTAMP: return `strftime(${ref}, '%Y-%m-%dT%H:%M:%S.%f')`;
    case DuckDBTypeId.BLOB: return `to_base64(${ref})`;
    case DuckDBTypeId.LIST: case DuckDBTypeId.ARRAY: case DuckDBTypeId.STRUCT: case DuckDBTypeId.MAP: return `CAST(to_json(${ref}) AS VARCHAR)`;
    default: return `CAST(${ref} AS VARCHAR)`;
  }
}
