import type { Value } from '../../sources/source.ts';
import { bigintText } from '../sql-batch.ts';
import { isDateTime, type MyColumn } from './mysql-schema.ts';

/**
 * How a Lastmile value is handed to the driver's escaping: objects and arrays as JSON text,
 * bytes as a Buffer (X'…'), and ISO timestamps for DATETIME/TIMESTAMP columns in the form
 * MySQL reads, converted to UTC (the session's time zone) when they carry an offset.
 */
export function toDriverValue(value: Value | undefined, column: MyColumn | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'object') return JSON.stringify(value, bigintText);
  if (typeof value === 'string' && isDateTime(column)) return mysqlDateTime(value);
  return value;
}

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** `2024-03-01T12:00:00.123456+02:00` -> `2024-03-01 10:00:00.123456`; other text unchanged. */
export function mysqlDateTime(text: string): string {
  const m = ISO.exec(text);
  if (!m) return text;
  const [, date, time, fraction = '', zone] = m;
  const seconds = time!.length === 5 ? `${time}:00` : time!;
  if (!zone || zone === 'Z' || /^[+-]00:?(00)?$/.test(zone)) return `${date} ${seconds}${fraction}`;
  const offset = zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const utc = new Date(`${date}T${seconds}${offset}`);
  if (Number.isNaN(utc.getTime())) return text;
  return `${utc.toISOString().slice(0, 19).replace('T', ' ')}${fraction}`;
}
