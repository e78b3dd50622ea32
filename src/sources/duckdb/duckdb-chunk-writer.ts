import duckdb from '@duckdb/node-bindings';
import { DuckDBDateValue, DuckDBTimestampValue } from '@duckdb/node-api';
import type { Column, Row, Value } from '../source.ts';
import { parseDate, parseTime, parseTimestamp } from '../canonical-values.ts';
import { stringifyJson } from './duckdb-values.ts';

/**
 * Writes one column of up to 2,048 staged rows into a DuckDB vector. Fixed-width values are
 * laid out in a reused JS buffer and copied into the vector in one call; only text and binary
 * cross into DuckDB per value. The appender's per-value calls build a DuckDB value for every
 * cell, which costs several times more than the conversion itself.
 */
export type ColumnWriter = (vector: duckdb.Vector, rows: Row[], count: number) => void;

export interface DecimalShape { precision: number; scale: number }

const TWO_32 = 4_294_967_296;
const VECTOR_SIZE = duckdb.vector_size();
const POS_INF_DAYS = DuckDBDateValue.PosInf.days;
const NEG_INF_DAYS = DuckDBDateValue.NegInf.days;
const POS_INF_MICROS = DuckDBTimestampValue.PosInf.micros;
const NEG_INF_MICROS = DuckDBTimestampValue.NegInf.micros;

export function columnWriter(column: Column, decimal: DecimalShape): ColumnWriter {
  const name = column.name;
  switch (column.type) {
    case 'boolean': return fixed(name, 1, (cells, i, v) => { cells.bytes[i] = (typeof v === 'boolean' ? v : Number(v) !== 0) ? 1 : 0; });
    case 'integer': return fixed(name, 8, (cells, i, v) => int64(cells, i, integerOf(v)));
    case 'bigint': return fixed(name, 16, (cells, i, v) => int128(cells, i, integerOf(v)));
    case 'double': return fixed(name, 8, (cells, i, v) => { cells.view.setFloat64(8 * i, typeof v === 'number' ? v : Number(v), true); });
    case 'date': return fixed(name, 4, (cells, i, v) => { cells.view.setInt32(4 * i, days(String(v)), true); });
    case 'time': return fixed(name, 8, (cells, i, v) => int64(cells, i, parseTime(String(v))));
    case 'timestamp': case 'timestamptz': return fixed(name, 8, (cells, i, v) => int64(cells, i, micros(String(v))));
    case 'decimal': return decimalWriter(name, decimal);
    case 'varchar': return text(name, (v) => (typeof v === 'string' ? v : textOf(v)));
    case 'json': return text(name, stringifyJson);
    case 'blob': return (vector, rows, count) => {
      const mask = new Validity(count);
      eachCell(name, rows, count, mask, (i, v) => {
        const bytes = v instanceof Uint8Array ? v : new TextEncoder().encode(String(v));
        duckdb.vector_assign_string_element_len(vector, i, bytes);
      });
      mask.flush(vector);
    };
  }
}

interface Cells { buffer: ArrayBuffer; bytes: Uint8Array; words: Int32Array; view: DataView }

function fixed(name: string, width: number, write: (cells: Cells, i: number, value: Value) => void): ColumnWriter {
  const buffer = new ArrayBuffer(VECTOR_SIZE * width);
  const cells: Cells = { buffer, bytes: new Uint8Array(buffer), words: new Int32Array(buffer), view: new DataView(buffer) };
  return (vector, rows, count) => {
    const mask = new Validity(count);
    cells.bytes.fill(0, 0, count * width);
    eachCell(name, rows, count, mask, (i, v) => write(cells, i, v));
    duckdb.copy_data_to_vector(vector, 0, buffer, 0, count * width);
    mask.flush(vector);
  };
}

function text(name: string, toText: (value: Value) => string): ColumnWriter {
  return (vector, rows, count) => {
    const mask = new Validity(count);
    eachCell(name, rows, count, mask, (i, v) => duckdb.vector_assign_string_element(vector, i, toText(v)));
    mask.flush(vector);
  };
}

function decimalWriter(name: string, { precision, scale }: DecimalShape): ColumnWriter {
  if (precision <= 4) return fixed(name, 2, (cells, i, v) => cells.view.setInt16(2 * i, Number(scaledDecimal(v, scale)), true));
  if (precision <= 9) return fixed(name, 4, (cells, i, v) => cells.view.setInt32(4 * i, Number(scaledDecimal(v, scale)), true));
  if (precision <= 18) return fixed(name, 8, (cells, i, v) => int64(cells, i, scaledDecimal(v, scale)));
  return fixed(name, 16, (cells, i, v) => int128(cells, i, scaledDecimal(v, scale)));
}

/** Runs `write` for each non-null cell of the column; nulls go to the mask. Errors name the cell. */
function eachCell(name: string, rows: Row[], count: number, mask: Validity, write: (i: number, value: Value) => void): void {
  let i = 0;
  try {
    for (; i < count; i++) {
      const value = rows[i]![name];
      if (value === null || value === undefined) mask.setNull(i);
      else write(i, value);
    }
  } catch (error) {
    throw new CellError(name, i, typeof rows[i]![name], error);
  }
}

/** A value that does not fit its column; `row` counts from the batch's first row. */
export class CellError extends Error {
  constructor(readonly column: string, readonly row: number, readonly valueType: string, cause: unknown) {
    super((cause as Error).message, { cause });
    this.name = 'CellError';
  }
}

class Validity {
  private mask?: Uint8Array;
  constructor(private readonly count: number) {}

  setNull(i: number): void {
    this.mask ??= new Uint8Array(Math.ceil(this.count / 64) * 8).fill(0xff);
    this.mask[i >> 3]! &= ~(1 << (i & 7));
  }

  flush(vector: duckdb.Vector): void {
    if (!this.mask) return;
    duckdb.vector_ensure_validity_writable(vector);
    duckdb.copy_data_to_vector_validity(vector, 0, this.mask.buffer as ArrayBuffer, 0, this.mask.byteLength);
  }
}

function int64(cells: Cells, i: number, value: number | bigint): void {
  if (typeof value === 'bigint') {
    cells.view.setBigInt64(8 * i, value, true);
    return;
  }
  const high = Math.floor(value / TWO_32);
  cells.words[2 * i] = (value - high * TWO_32) | 0;
  cells.words[2 * i + 1] = high;
}

/** DuckDB's hugeint: lower 64 bits unsigned, then upper 64 bits signed. */
function int128(cells: Cells, i: number, value: number | bigint): void {
  if (typeof value === 'number' && Number.isSafeInteger(value)) {
    const high = Math.floor(value / TWO_32);
    cells.words[4 * i] = (value - high * TWO_32) | 0;
    cells.words[4 * i + 1] = high;
    cells.words[4 * i + 2] = cells.words[4 * i + 3] = value < 0 ? -1 : 0;
    return;
  }
  const big = BigInt(value);
  if (BigInt.asIntN(128, big) !== big) throw new Error(`${big} does not fit in 128 bits`);
  cells.view.setBigUint64(16 * i, BigInt.asUintN(64, big), true);
  cells.view.setBigInt64(16 * i + 8, big >> 64n, true);
}

function integerOf(value: Value): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`${value} is not an integer`);
    return Number.isSafeInteger(value) ? value : BigInt(value);
  }
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return BigInt(String(value).trim());
}

function days(text: string): number {
  const value = parseDate(text);
  if (value === Infinity) return POS_INF_DAYS;
  if (value === -Infinity) return NEG_INF_DAYS;
  return value;
}

function micros(text: string): number | bigint {
  const value = parseTimestamp(text);
  if (value === Infinity) return POS_INF_MICROS;
  if (value === -Infinity) return NEG_INF_MICROS;
  return value;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** The decimal's digits scaled by 10^scale: exact for text; past `scale` digits it rounds half away from zero, as DuckDB's cast does. */
export function scaledDecimal(value: Value, scale: number): bigint {
  if (typeof value === 'bigint') return value * 10n ** BigInt(scale);
  const source = typeof value === 'number' ? numberText(value) : String(value).trim();
  const match = DECIMAL_TEXT.exec(source);
  if (!match || (match[2] === '' && !match[3])) throw new Error(`"${source}" is not a decimal number`);
  const [, sign, whole = '', fraction = '', exponent] = match;
  let digits = whole + fraction;
  let point = whole.length + (exponent ? Number(exponent) : 0); // digits before the decimal point
  if (point < 0) { digits = '0'.repeat(-point) + digits; point = 0; }
  const wanted = point + scale;
  let scaled = BigInt(digits.slice(0, wanted).padEnd(wanted, '0') || '0');
  if (digits.length > wanted && digits.charCodeAt(wanted) >= 53 /* '5' */) scaled += 1n;
  return sign === '-' ? -scaled : scaled;
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`${value} is not a decimal number`);
  return String(value);
}

function textOf(value: Value): string {
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) return stringifyJson(value);
  return String(value);
}
