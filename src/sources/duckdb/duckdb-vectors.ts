import duckdb from '@duckdb/node-bindings';
import { DuckDBDecimalType, DuckDBDecimalValue, DuckDBTypeId, type DuckDBDataChunk, type DuckDBType } from '@duckdb/node-api';
import type { Value } from '../source.ts';
import { formatDate, formatTimestamp } from '../canonical-values.ts';
import { fromDuckdb, parseJson } from './duckdb-values.ts';

/**
 * Reads one column of a DuckDB data chunk into canonical Values, column by column.
 *
 * Fixed-width types are read straight from the vector's memory (DuckDB's C API through
 * @duckdb/node-bindings, the layer under @duckdb/node-api): an int64 becomes a number
 * from its two 32-bit halves, so no bigint or value object is allocated per cell. That,
 * not SQL, is what bounds a read's speed: allocation and garbage collection.
 */
export type ColumnReader = (chunk: DuckDBDataChunk, column: number, count: number, out: Value[]) => void;

const TWO_32 = 4_294_967_296;
const SAFE_HIGH = 0x200000; // |high word| below 2^21: the int64 is below 2^53

export function columnReader(type: DuckDBType): ColumnReader {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return fixed(1, (data, count, out, valid) => {
      for (let i = 0; i < count; i++) out[i] = valid(i) ? data[i] !== 0 : null;
    });
    case DuckDBTypeId.INTEGER: return typed(Int32Array);
    case DuckDBTypeId.SMALLINT: return typed(Int16Array);
    case DuckDBTypeId.TINYINT: return typed(Int8Array);
    case DuckDBTypeId.UINTEGER: return typed(Uint32Array);
    case DuckDBTypeId.USMALLINT: return typed(Uint16Array);
    case DuckDBTypeId.UTINYINT: return typed(Uint8Array);
    case DuckDBTypeId.DOUBLE: return typed(Float64Array);
    case DuckDBTypeId.FLOAT: return typed(Float32Array);
    case DuckDBTypeId.DATE: return fixed(4, (data, count, out, valid) => {
      const days = view(Int32Array, data, count);
      for (let i = 0; i < count; i++) out[i] = valid(i) ? formatDate(days[i]!) : null;
    });
    case DuckDBTypeId.BIGINT: return int64((n) => n, (big) => big, false);
    case DuckDBTypeId.UBIGINT: return int64((n) => n, (big) => big, true);
    case DuckDBTypeId.TIMESTAMP: return int64((n) => formatTimestamp(n, false), (big) => formatTimestamp(big, false), false);
    case DuckDBTypeId.TIMESTAMP_TZ: return int64((n) => formatTimestamp(n, true), (big) => formatTimestamp(big, true), false);
    case DuckDBTypeId.DECIMAL: return decimal(type as DuckDBDecimalType);
    case DuckDBTypeId.VARCHAR: return type.alias === 'JSON' ? itemReader((item) => parseJson(item as string)) : itemReader((item) => item as string);
    default: return itemReader(fromDuckdb);
  }
}

/** Cells the C API cannot give as fixed-width memory (text, lists, structs…): node-api's own items. */
function itemReader(convert: (item: NonNullable<Parameters<typeof fromDuckdb>[0]>) => Value): ColumnReader {
  return (chunk, column, count, out) => {
    const vector = chunk.getColumnVector(column);
    for (let i = 0; i < count; i++) {
      const item = vector.getItem(i);
      out[i] = item === null ? null : convert(item);
    }
  };
}

type Validity = (row: number) => boolean;
type FixedReader = (data: Uint8Array, count: number, out: Value[], valid: Validity) => void;

const ALL_VALID: Validity = () => true;

function fixed(width: number, read: FixedReader): ColumnReader {
  return (chunk, column, count, out) => {
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, column);
    const data = duckdb.vector_get_data(vector, count * width);
    const mask = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8);
    const valid: Validity = mask ? (row) => (mask[row >> 3]! & (1 << (row & 7))) !== 0 : ALL_VALID;
    read(data, count, out, valid);
  };
}

type TypedArrayKind = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayLike<number>; BYTES_PER_ELEMENT: number };

function view<T extends TypedArrayKind>(kind: T, data: Uint8Array, count: number): InstanceType<T> {
  return new kind(data.buffer, data.byteOffset, count) as InstanceType<T>;
}

function typed(kind: TypedArrayKind): ColumnReader {
  return fixed(kind.BYTES_PER_ELEMENT, (data, count, out, valid) => {
    const items = new kind(data.buffer, data.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = valid(i) ? items[i]! : null;
  });
}

/** int64 cells: a number when safe (no allocation), else the exact bigint. */
function int64(small: (n: number) => Value, large: (big: bigint) => Value, unsigned: boolean): ColumnReader {
  return fixed(8, (data, count, out, valid) => {
    const words = new Int32Array(data.buffer, data.byteOffset, count * 2);
    for (let i = 0; i < count; i++) {
      if (!valid(i)) { out[i] = null; continue; }
      const high = words[2 * i + 1]!;
      if (unsigned ? high >= 0 && high < SAFE_HIGH : high >= -SAFE_HIGH && high < SAFE_HIGH) {
        out[i] = small(high * TWO_32 + (words[2 * i]! >>> 0));
      } else {
        const cells = new DataView(data.buffer, data.byteOffset + 8 * i, 8);
        out[i] = large(unsigned ? cells.getBigUint64(0, true) : cells.getBigInt64(0, true));
      }
    }
  });
}

/** Decimals up to 18 digits are stored as int16/32/64 scaled by 10^scale: printed without bigint. */
function decimal(type: DuckDBDecimalType): ColumnReader {
  const { width, scale } = type;
  if (width > 18) return itemReader(fromDuckdb);
  const divisor = 10 ** scale;
  const text = (n: number): string => {
    if (scale === 0) return String(n);
    const negative = n < 0;
    const abs = negative ? -n : n;
    const whole = Math.floor(abs / divisor);
    const fraction = String(abs - whole * divisor).padStart(scale, '0');
    return `${negative ? '-' : ''}${whole}.${fraction}`;
  };
  if (width > 9) return int64(text, (big) => new DuckDBDecimalValue(big, width, scale).toString(), false);
  const kind: TypedArrayKind = width > 4 ? Int32Array : Int16Array;
  return fixed(kind.BYTES_PER_ELEMENT, (data, count, out, valid) => {
    const items = new kind(data.buffer, data.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = valid(i) ? text(items[i]!) : null;
  });
}
