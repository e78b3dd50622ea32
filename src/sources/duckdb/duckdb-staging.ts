import {
  DuckDBDateValue, DuckDBDecimalValue, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBTimeValue,
  type DuckDBAppender, type DuckDBConnection,
} from '@duckdb/node-api';
import type { Column, RowChunk, Value } from '../source.ts';
import { parseDate, parseTime, parseTimestamp } from '../canonical-values.ts';
import { stringifyJson } from './duckdb-values.ts';

/** Decimals whose engine gave no precision (Postgres `numeric`, SQLite) land here. */
const DEFAULT_DECIMAL = { precision: 38, scale: 10 };

/**
 * Creates the temp table `table` from the first chunk's columns and appends every row
 * through DuckDB's appender. This is how rows from Postgres, MySQL or SQLite reach the
 * DuckDB workspace where the diff runs; values come back out exactly as they went in.
 * Returns the number of rows staged.
 */
export async function stageRows(
  connection: DuckDBConnection,
  table: string,
  chunks: AsyncIterable<RowChunk>,
  signal: AbortSignal,
): Promise<number> {
  let appender: DuckDBAppender | undefined;
  let writers: ValueWriter[] = [];
  let names: string[] = [];
  let count = 0;
  try {
    for await (const chunk of chunks) {
      signal.throwIfAborted();
      if (!appender) {
        await connection.run(createTableSql(table, chunk.columns));
        appender = await connection.createAppender(table, 'main', 'temp');
        writers = chunk.columns.map(valueWriter);
        names = chunk.columns.map((column) => column.name);
      }
      for (const row of chunk.rows) {
        for (let c = 0; c < names.length; c++) {
          const value = row[names[c]!];
          if (value === null || value === undefined) appender.appendNull();
          else appendChecked(appender, writers[c]!, value, names[c]!, count);
        }
        appender.endRow();
        count++;
      }
    }
    if (!appender) throw new Error(`no columns to stage into "${table}": the source yielded no chunk`);
    appender.flushSync();
    return count;
  } finally {
    appender?.closeSync();
  }
}

export function createTableSql(table: string, columns: Column[]): string {
  const list = columns.map((column) => `${quote(column.name)} ${duckdbTypeOf(column)}`).join(', ');
  return `CREATE OR REPLACE TEMP TABLE ${quote(table)} (${list})`;
}

/** The DuckDB type a logical column is staged as. */
export function duckdbTypeOf(column: Column): string {
  switch (column.type) {
    case 'boolean': return 'BOOLEAN';
    case 'integer': return 'BIGINT';
    case 'bigint': return 'HUGEINT'; // MySQL's BIGINT UNSIGNED goes past BIGINT
    case 'double': return 'DOUBLE';
    case 'decimal': {
      const { precision, scale } = decimalShape(column);
      return `DECIMAL(${precision},${scale})`;
    }
    case 'varchar': return 'VARCHAR';
    case 'date': return 'DATE';
    case 'time': return 'TIME';
    case 'timestamp': return 'TIMESTAMP';
    case 'timestamptz': return 'TIMESTAMPTZ';
    case 'json': return 'JSON';
    case 'blob': return 'BLOB';
  }
}

type ValueWriter = (appender: DuckDBAppender, value: Value) => void;

function valueWriter(column: Column): ValueWriter {
  switch (column.type) {
    case 'boolean': return (a, v) => a.appendBoolean(typeof v === 'boolean' ? v : Number(v) !== 0);
    case 'integer': return (a, v) => a.appendBigInt(typeof v === 'bigint' ? v : BigInt(v as number | string));
    case 'bigint': return (a, v) => a.appendHugeInt(typeof v === 'bigint' ? v : BigInt(v as number | string));
    case 'double': return (a, v) => a.appendDouble(typeof v === 'number' ? v : Number(v));
    case 'decimal': {
      const { precision, scale } = decimalShape(column);
      return (a, v) => a.appendDecimal(new DuckDBDecimalValue(scaledDecimal(v, scale), precision, scale));
    }
    case 'varchar': return (a, v) => a.appendVarchar(typeof v === 'string' ? v : textOf(v));
    case 'date': return (a, v) => a.appendDate(dateValue(String(v)));
    case 'time': return (a, v) => a.appendTime(new DuckDBTimeValue(parseTime(String(v))));
    case 'timestamp': return (a, v) => a.appendTimestamp(timestampValue(String(v), DuckDBTimestampValue));
    case 'timestamptz': return (a, v) => a.appendTimestampTZ(timestampValue(String(v), DuckDBTimestampTZValue));
    case 'json': return (a, v) => a.appendVarchar(stringifyJson(v));
    case 'blob': return (a, v) => a.appendBlob(v instanceof Uint8Array ? v : new TextEncoder().encode(String(v)));
  }
}

function appendChecked(appender: DuckDBAppender, write: ValueWriter, value: Value, column: string, row: number): void {
  try {
    write(appender, value);
  } catch (error) {
    throw new Error(
      `cannot stage column "${column}" of row ${row + 1} (a ${typeof value} value): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function decimalShape(column: Column): { precision: number; scale: number } {
  const { precision, scale } = column;
  if (precision !== undefined && scale !== undefined && precision >= 1 && precision <= 38 && scale <= precision) {
    return { precision, scale };
  }
  return DEFAULT_DECIMAL;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The decimal's digits scaled by 10^scale, exact for text; beyond `scale` digits it rounds half away from zero, as DuckDB's cast does. */
export function scaledDecimal(value: Value, scale: number): bigint {
  if (typeof value === 'bigint') return value * 10n ** BigInt(scale);
  const text = typeof value === 'number' ? numberText(value) : String(value).trim();
  const match = DECIMAL_TEXT.exec(text);
  if (!match || (match[2] === '' && !match[3])) throw new Error(`"${text}" is not a decimal number`);
  const [, sign, whole = '', fraction = '', exponent] = match;
  let digits = whole + fraction;
  let point = whole.length + (exponent ? Number(exponent) : 0); // digits before the decimal point
  if (point < 0) { digits = '0'.repeat(-point) + digits; point = 0; }
  const wanted = point + scale;
  let scaled = BigInt((digits.slice(0, wanted).padEnd(wanted, '0')) || '0');
  if (digits.length > wanted && digits.charCodeAt(wanted) >= 53 /* '5' */) scaled += 1n;
  return sign === '-' ? -scaled : scaled;
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`${value} is not a decimal number`);
  return String(value);
}

function dateValue(text: string): DuckDBDateValue {
  const days = parseDate(text);
  if (days === Infinity) return DuckDBDateValue.PosInf;
  if (days === -Infinity) return DuckDBDateValue.NegInf;
  return new DuckDBDateValue(days);
}

function timestampValue<T extends DuckDBTimestampValue | DuckDBTimestampTZValue>(
  text: string,
  kind: { new (micros: bigint): T; PosInf: T; NegInf: T },
): T {
  const micros = parseTimestamp(text);
  if (micros === Infinity) return kind.PosInf;
  if (micros === -Infinity) return kind.NegInf;
  return new kind(micros as bigint);
}

function textOf(value: Value): string {
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) return stringifyJson(value);
  return String(value);
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
