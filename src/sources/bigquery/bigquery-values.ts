import type { Column, ColumnType, Value } from '../source.ts';
import { canonicalDate, canonicalTime, canonicalTimestamp, formatTimestamp, plainBytes, stringifyJson } from '../canonical-values.ts';

/**
 * BigQuery's REST API writes a row as `{f: [{v: …}]}`, every scalar a string, typed by the
 * result's schema: INT64 digits, NUMERIC/BIGNUMERIC decimal text, FLOAT64 float text, BOOL
 * "true"/"false", BYTES base64, DATE/DATETIME/TIME ISO text, TIMESTAMP seconds since the epoch
 * as a float (`1.709287200123456E9`), JSON text; a REPEATED field's value is a list of `{v}`,
 * a RECORD's is `{f: [{v}]}`. This turns them into Lastmile's canonical values (source.ts).
 */
export interface BigqueryField {
  name: string;
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  fields?: BigqueryField[];
  /** Parameterized NUMERIC(p, s): the API writes both as strings. */
  precision?: string;
  scale?: string;
}

export type BigqueryCell = { v: unknown };
type Convert = (raw: unknown) => Value;

const SCALARS: Record<string, { type: ColumnType; convert: (text: string) => Value }> = {
  INT64: { type: 'bigint', convert: (text) => { const n = Number(text); return Number.isSafeInteger(n) ? n : BigInt(text); } },
  FLOAT64: { type: 'double', convert: Number }, // "NaN", "Infinity", "-Infinity" read as such
  NUMERIC: { type: 'decimal', convert: (text) => text },
  BIGNUMERIC: { type: 'decimal', convert: (text) => text },
  BOOL: { type: 'boolean', convert: (text) => text === 'true' },
  STRING: { type: 'varchar', convert: (text) => text },
  BYTES: { type: 'blob', convert: (text) => plainBytes(Buffer.from(text, 'base64')) },
  DATE: { type: 'date', convert: canonicalDate },
  DATETIME: { type: 'timestamp', convert: canonicalTimestamp },
  TIME: { type: 'time', convert: canonicalTime },
  TIMESTAMP: { type: 'timestamptz', convert: (text) => formatTimestamp(floatSecondsToMicros(text), true) },
  JSON: { type: 'json', convert: (text) => JSON.parse(text) as Value },
};
// Legacy names the API still writes in schemas.
const ALIASES: Record<string, string> = { INTEGER: 'INT64', FLOAT: 'FLOAT64', BOOLEAN: 'BOOL', STRUCT: 'RECORD' };

/** The column and the converter of one schema field; types Lastmile does not know (GEOGRAPHY, INTERVAL) read as text. */
export function bigqueryColumn(field: BigqueryField): { column: Column; convert: Convert } {
  const type = baseType(field);
  if (field.mode === 'REPEATED' || type === 'RECORD') return { column: { name: field.name, type: 'json' }, convert: converter(field) };
  const column: Column = { name: field.name, type: SCALARS[type]?.type ?? 'varchar' };
  if (type === 'NUMERIC') {
    // Unparameterized NUMERIC is (38, 9); BIGNUMERIC's 76 digits go beyond what staging can declare.
    column.precision = field.precision ? Number(field.precision) : 38;
    column.scale = field.scale ? Number(field.scale) : 9;
  }
  return { column, convert: converter(field) };
}

function baseType(field: BigqueryField): string {
  const type = field.type.toUpperCase();
  return ALIASES[type] ?? type;
}

function converter(field: BigqueryField): Convert {
  const element = elementConverter(field);
  if (field.mode !== 'REPEATED') return element;
  return (raw) => (raw as BigqueryCell[]).map((cell) => (cell.v === null ? null : element(cell.v)));
}

function elementConverter(field: BigqueryField): Convert {
  const type = baseType(field);
  if (type === 'RECORD') {
    const members = (field.fields ?? []).map((member) => ({ name: member.name, convert: converter(member) }));
    return (raw) => {
      const cells = (raw as { f: BigqueryCell[] }).f;
      const record: Record<string, Value> = {};
      members.forEach((member, i) => {
        const v = cells[i]?.v;
        record[member.name] = v === null || v === undefined ? null : member.convert(v);
      });
      return record;
    };
  }
  const scalar = SCALARS[type]?.convert ?? ((text: string) => text);
  return (raw) => scalar(String(raw));
}

/**
 * Microseconds for seconds written as a float (`1.709287200123456E9`, `-0.5`, `1709287200`),
 * worked out on the digits and rounded to the microsecond: no double arithmetic on the way.
 */
export function floatSecondsToMicros(text: string): number | bigint {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a BigQuery TIMESTAMP (seconds since the epoch)`);
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  const digits = `${whole}${fraction}`;
  const point = whole.length + Number(exponent); // where the decimal point falls in `digits`
  const padded = point > digits.length ? digits.padEnd(point, '0') : point < 0 ? `${'0'.repeat(-point)}${digits}` : digits;
  const at = Math.max(point, 0);
  const seconds = padded.slice(0, at) || '0';
  const rest = padded.slice(at);
  let micros = BigInt(seconds) * 1_000_000n + BigInt(rest.slice(0, 6).padEnd(6, '0'));
  if ((rest[6] ?? '0') >= '5') micros += 1n;
  const signed = sign === '-' ? -micros : micros;
  const asNumber = Number(signed);
  return Number.isSafeInteger(asNumber) ? asNumber : signed;
}

/** A positional query parameter, as jobs.query takes it. Canonical dates and times travel as STRING, which BigQuery coerces. */
export interface BigqueryParameter {
  parameterType: { type: string };
  parameterValue: { value?: string };
}

export function bigqueryParameter(value: Value): BigqueryParameter {
  const typed = (type: string, text?: string): BigqueryParameter => ({ parameterType: { type }, parameterValue: text === undefined ? {} : { value: text } });
  if (value === null) return typed('STRING');
  switch (typeof value) {
    case 'bigint': return typed('INT64', value.toString());
    case 'number': return Number.isInteger(value) ? typed('INT64', String(value)) : typed('FLOAT64', String(value));
    case 'boolean': return typed('BOOL', String(value));
    case 'string': return typed('STRING', value);
  }
  if (value instanceof Uint8Array) return typed('BYTES', Buffer.from(value).toString('base64'));
  return typed('JSON', stringifyJson(value));
}
