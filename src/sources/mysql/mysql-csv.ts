import { Transform, type TransformCallback } from 'node:stream';
import type { CsvColumn } from '../duckdb/duckdb-csv-load.ts';
import { timestampSql, utcInstantSql } from '../duckdb/duckdb-csv-values.ts';
import { stringifyJson } from '../canonical-values.ts';
import { mysqlColumn, type MysqlField } from './mysql-values.ts';

/**
 * A MySQL result as CSV for DuckDB, straight from the text protocol's raw field bytes (the
 * driver's typeCast off): no value is parsed in JS. Numbers, dates and times are copied
 * as the server wrote them, text is quoted, binary goes as hex. DuckDB then gives each
 * value the canonical form mysql-values.ts gives it: zero dates are null, TINYINT(1) is a
 * boolean, TIMESTAMP text (the session is in UTC) is an instant, JSON goes through the
 * same converter.
 */
type Encoding = 'plain' | 'quoted' | 'hex';

export interface MysqlCsvColumn {
  csv: CsvColumn;
  encoding: Encoding;
}

const zeroDateOr = (sql: (field: string) => string) => (field: string) =>
  `CASE WHEN starts_with(${field}, '0000-00-00') THEN NULL ELSE ${sql(field)} END`;

export function mysqlCsvColumn(field: MysqlField): MysqlCsvColumn {
  const { column, convert } = mysqlColumn(field);
  const as = (encoding: Encoding, csv: Omit<CsvColumn, 'column'> = {}): MysqlCsvColumn => ({ csv: { column, ...csv }, encoding });
  const bit = field.columnType === 16; // BIT(1): one raw byte
  switch (column.type) {
    // TINYINT(1) holds any small number: true when not 0.
    case 'boolean': return bit ? as('hex', { read: 'VARCHAR', convert: (f) => `(${f} <> '00')` }) : as('plain', { read: 'BIGINT', convert: (f) => `(${f} <> 0)` });
    case 'date': return as('plain', { read: 'VARCHAR', convert: zeroDateOr((f) => `CAST(${f} AS DATE)`) });
    case 'timestamp': return as('plain', { read: 'VARCHAR', convert: zeroDateOr(timestampSql) });
    case 'timestamptz': return as('plain', { read: 'VARCHAR', convert: zeroDateOr((f) => utcInstantSql(timestampSql(f))) });
    case 'json': return as('quoted', { read: 'VARCHAR', text: (raw) => stringifyJson(convert(raw)) });
    case 'blob': return as('hex', { read: 'VARCHAR', convert: (f) => `unhex(${f})` });
    case 'varchar': return as('quoted');
    default: return as('plain'); // integers, decimals, doubles, times: the server's digits
  }
}

const OUT_BYTES = 1024 * 1024;
const QUOTE = 0x22;

/** Rows (arrays of raw field bytes) in, CSV out: every chunk it pushes ends at a row end. */
export class MysqlCsvEncoder extends Transform {
  private buffer = Buffer.allocUnsafe(OUT_BYTES);
  private at = 0;

  constructor(private readonly encodings: Encoding[]) {
    super({ writableObjectMode: true });
  }

  override _transform(row: (Buffer | null)[], _encoding: BufferEncoding, done: TransformCallback): void {
    const last = this.encodings.length - 1;
    for (let c = 0; c <= last; c++) {
      const value = row[c];
      if (value !== null && value !== undefined) this.field(value, this.encodings[c]!);
      this.byte(c === last ? 0x0a : 0x2c);
    }
    if (this.at >= OUT_BYTES / 2) this.pushOut();
    done();
  }

  override _flush(done: TransformCallback): void {
    this.pushOut();
    done();
  }

  private field(value: Buffer, encoding: Encoding): void {
    if (encoding === 'hex') {
      // Quoted, so no bytes (an empty hex text) differ from NULL.
      this.room(value.length * 2 + 2);
      this.buffer[this.at++] = QUOTE;
      this.at += this.buffer.write(value.toString('hex'), this.at, 'latin1');
      this.buffer[this.at++] = QUOTE;
    } else if (encoding === 'plain') {
      this.room(value.length);
      this.buffer.set(value, this.at); // TypedArray#set: far cheaper per call than Buffer#copy
      this.at += value.length;
    } else {
      // Quoted, so an empty string differs from NULL; a quote inside is doubled.
      this.room(value.length * 2 + 2);
      this.buffer[this.at++] = QUOTE;
      if (value.indexOf(QUOTE) < 0) {
        this.buffer.set(value, this.at);
        this.at += value.length;
      } else {
        for (const byte of value) {
          if (byte === QUOTE) this.buffer[this.at++] = QUOTE;
          this.buffer[this.at++] = byte;
        }
      }
      this.buffer[this.at++] = QUOTE;
    }
  }

  private byte(value: number): void {
    this.room(1);
    this.buffer[this.at++] = value;
  }

  /** Makes room for `bytes` more: a field larger than the buffer grows it. */
  private room(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(bigger, 0, 0, this.at);
    this.buffer = bigger;
  }

  private pushOut(): void {
    if (this.at === 0) return;
    this.push(this.buffer.subarray(0, this.at));
    this.buffer = Buffer.allocUnsafe(Math.max(OUT_BYTES, this.buffer.length));
    this.at = 0;
  }
}
