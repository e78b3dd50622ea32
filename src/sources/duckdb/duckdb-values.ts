import {
  DuckDBTypeId, DuckDBBlobValue, DuckDBDateValue, DuckDBDecimalValue, DuckDBListValue, DuckDBArrayValue,
  DuckDBMapValue, DuckDBStructValue, DuckDBTimestampTZValue, DuckDBTimestampValue, DuckDBTimeValue,
  DuckDBTimestampSecondsValue, DuckDBTimestampMillisecondsValue, DuckDBTimestampNanosecondsValue,
  DuckDBUnionValue, DuckDBDecimalType, blobValue,
  type DuckDBType, type DuckDBValue,
} from '@duckdb/node-api';
import type { Column, ColumnType, Value } from '../source.ts';
import { formatDate, formatTime, formatTimestamp, plainBytes, stringifyJson } from '../canonical-values.ts';

export { parseJson, stringifyJson } from '../canonical-values.ts';

/** The logical column type of a DuckDB type. */
export function columnType(type: DuckDBType): ColumnType {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return 'boolean';
    case DuckDBTypeId.TINYINT: case DuckDBTypeId.SMALLINT: case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT: case DuckDBTypeId.USMALLINT: case DuckDBTypeId.UINTEGER:
      return 'integer';
    case DuckDBTypeId.BIGINT: case DuckDBTypeId.UBIGINT: case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT: case DuckDBTypeId.BIGNUM:
      return 'bigint';
    case DuckDBTypeId.FLOAT: case DuckDBTypeId.DOUBLE: return 'double';
    case DuckDBTypeId.DECIMAL: return 'decimal';
    case DuckDBTypeId.DATE: return 'date';
    case DuckDBTypeId.TIME: case DuckDBTypeId.TIME_NS: case DuckDBTypeId.TIME_TZ: return 'time';
    case DuckDBTypeId.TIMESTAMP: case DuckDBTypeId.TIMESTAMP_S: case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return 'timestamp';
    case DuckDBTypeId.TIMESTAMP_TZ: return 'timestamptz';
    case DuckDBTypeId.BLOB: return 'blob';
    case DuckDBTypeId.LIST: case DuckDBTypeId.ARRAY: case DuckDBTypeId.STRUCT: case DuckDBTypeId.MAP:
    case DuckDBTypeId.UNION: case DuckDBTypeId.VARIANT:
      return 'json';
    case DuckDBTypeId.VARCHAR: return type.alias === 'JSON' ? 'json' : 'varchar';
    default: return 'varchar';
  }
}

export function toColumn(name: string, type: DuckDBType): Column {
  const column: Column = { name, type: columnType(type) };
  if (type instanceof DuckDBDecimalType) {
    column.precision = type.width;
    column.scale = type.scale;
  }
  return column;
}

/** Any DuckDB value (nested ones included) as a canonical Value. */
export function fromDuckdb(value: DuckDBValue): Value {
  if (value === null) return null;
  switch (typeof value) {
    case 'boolean': case 'number': case 'string': return value;
    case 'bigint': return safeInteger(value);
  }
  if (value instanceof DuckDBDecimalValue) return value.toString();
  if (value instanceof DuckDBTimestampTZValue) return formatTimestamp(value.micros, true);
  if (value instanceof DuckDBTimestampValue) return formatTimestamp(value.micros, false);
  if (value instanceof DuckDBDateValue) return formatDate(value.days);
  if (value instanceof DuckDBTimeValue) return formatTime(value.micros);
  if (value instanceof DuckDBTimestampSecondsValue) return formatTimestamp(value.seconds * 1_000_000n, false);
  if (value instanceof DuckDBTimestampMillisecondsValue) return formatTimestamp(value.millis * 1000n, false);
  // Nanoseconds: the canonical form stops at microseconds.
  if (value instanceof DuckDBTimestampNanosecondsValue) return formatTimestamp(floorDiv(value.nanos, 1000n), false);
  if (value instanceof DuckDBBlobValue) return plainBytes(value.bytes);
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map(fromDuckdb);
  if (value instanceof DuckDBStructValue) {
    const out: Record<string, Value> = {};
    for (const key in value.entries) out[key] = fromDuckdb(value.entries[key]!);
    return out;
  }
  if (value instanceof DuckDBMapValue) {
    const out: Record<string, Value> = {};
    for (const entry of value.entries) out[String(fromDuckdb(entry.key))] = fromDuckdb(entry.value);
    return out;
  }
  if (value instanceof DuckDBUnionValue) return fromDuckdb(value.value);
  // UUID, INTERVAL, TIME WITH TIME ZONE, BIT, ENUM…: DuckDB's own text.
  return String(value);
}

/** A Value as a parameter DuckDB can bind. Objects and arrays travel as JSON text. */
export function toDuckdbParam(value: Value): DuckDBValue {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return blobValue(value);
  return stringifyJson(value);
}

function safeInteger(value: bigint): number | bigint {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}
