import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { Value } from '../source.ts';
import type { CsvColumn } from '../duckdb/duckdb-csv-load.ts';
import { csvDate, csvTimestamp, csvTimestamptz } from '../duckdb/duckdb-csv-values.ts';
import { stringifyJson } from '../canonical-values.ts';
import { quoteIdentifier } from '../../sql-identifier.ts';
import { pgColumn, toPgParam } from './postgres-values.ts';

/**
 * A model read through `COPY (…) TO STDOUT (FORMAT csv)`: the server writes the CSV and
 * DuckDB parses it. Where the server's text is not the canonical value, the COPY query asks
 * for a text that is (timestamptz in UTC, bytea in hex), or DuckDB converts it (BC dates),
 * or, for JSON and arrays, the very converter `read()` uses runs on the text.
 */
export interface CopyColumn {
  /** The value's expression in the COPY query; `ref` is the model's column. */
  select: (ref: string) => string;
  csv: CsvColumn;
}

export function copyColumn(field: pg.FieldDef): CopyColumn {
  const { column, convert } = pgColumn(field);
  const as = (select: (ref: string) => string, csv: Omit<CsvColumn, 'column'> = {}) => ({ select, csv: { column, ...csv } });
  const same = (ref: string) => ref;
  switch (column.type) {
    case 'blob': return as((ref) => `encode(${ref}, 'hex')`, { read: 'VARCHAR', convert: (field) => `unhex(${field})` });
    case 'timestamptz': return as((ref) => `(${ref} AT TIME ZONE 'UTC')`, csvTimestamptz);
    case 'timestamp': return as(same, csvTimestamp);
    case 'date': return as(same, csvDate);
    case 'json': return as(same, { read: 'VARCHAR', text: (raw) => stringifyJson(convert(raw)) });
    default: return as(same);
  }
}

/** The COPY statement for `sql`, each column written as `columns` say. */
export function copySql(sql: string, columns: CopyColumn[]): string {
  const names = columns.map((_, i) => quoteIdentifier(`c${i}`));
  const values = columns.map((column, i) => column.select(`lastmile_model.${names[i]}`));
  return `COPY (SELECT ${values.join(', ')} FROM (${modelText(sql)}) AS lastmile_model (${names.join(', ')})) TO STDOUT (FORMAT csv)`;
}

/** The result columns of `sql`, described by running it with LIMIT 0. */
export async function describeQuery(client: pg.PoolClient, sql: string): Promise<pg.FieldDef[]> {
  const result = await client.query({ text: `SELECT * FROM (${modelText(sql)}) AS lastmile_model LIMIT 0`, rowMode: 'array' });
  return result.fields;
}

/**
 * `value` as a SQL literal, quoted by the server itself (format's %L). COPY takes no
 * parameters; an untyped literal is read exactly as an untyped parameter would be.
 */
export async function serverLiteral(client: pg.PoolClient, value: Value): Promise<string> {
  const param = toPgParam(value);
  const text = Buffer.isBuffer(param) ? `\\x${param.toString('hex')}` : param;
  const result = await client.query({ text: `SELECT format('%L', $1::text)`, values: [text], rowMode: 'array' });
  return String(result.rows[0][0]);
}

/** Streams the CSV of `copy` into `out`; rejects when the server or the connection fails. */
export function exportCsv(client: pg.PoolClient, copy: string, out: Writable): Promise<void> {
  return pipeline(client.query(copyTo(copy)), out);
}

/** The model's SQL, safe inside parentheses: a trailing `;` dropped, a trailing comment closed by the newline. */
function modelText(sql: string): string {
  return `\n${sql.replace(/[\s;]+$/, '')}\n`;
}
