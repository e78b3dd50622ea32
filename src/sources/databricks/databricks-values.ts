import type { Column, Value } from '../source.ts';
import { canonicalDate, canonicalTimestamp, canonicalTimestamptz, plainBytes } from '../canonical-values.ts';

/** A column of `manifest.schema.columns`, as the Statement Execution API describes it. */
export interface DatabricksColumnInfo {
  name: string;
  position?: number;
  type_name: string;
  type_text?: string;
  type_precision?: number;
  type_scale?: number;
}

type Convert = (text: string) => Value;

const long: Convert = (text) => {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
};
const asText: Convert = (text) => text;
const json: Convert = (text) => JSON.parse(text) as Value;

/**
 * In JSON_ARRAY every value is a string (or null); the column's `type_name` says what it
 * means. TIMESTAMP is an instant (Databricks renders it in UTC); TIMESTAMP_NTZ a wall clock;
 * BINARY comes base64-encoded; ARRAY, MAP, STRUCT and VARIANT as JSON text.
 */
export function databricksColumn(info: DatabricksColumnInfo): { column: Column; convert: Convert } {
  const as = (type: Column['type'], convert: Convert) => ({ column: { name: info.name, type }, convert });
  switch (info.type_name.toUpperCase()) {
    case 'BOOLEAN': return as('boolean', (text) => text === 'true');
    case 'BYTE': case 'SHORT': case 'INT': return as('integer', Number);
    case 'LONG': return as('bigint', long);
    case 'FLOAT': case 'DOUBLE': return as('double', Number);
    case 'DECIMAL': {
      const column: Column = { name: info.name, type: 'decimal' };
      if (info.type_precision !== undefined) column.precision = info.type_precision;
      if (info.type_scale !== undefined) column.scale = info.type_scale;
      return { column, convert: asText };
    }
    case 'DATE': return as('date', canonicalDate);
    case 'TIMESTAMP': return as('timestamptz', canonicalTimestamptz);
    case 'TIMESTAMP_NTZ': return as('timestamp', canonicalTimestamp);
    case 'BINARY': return as('blob', (text) => plainBytes(Buffer.from(text, 'base64')));
    case 'ARRAY': case 'MAP': case 'STRUCT': case 'VARIANT': return as('json', json);
    default: return as('varchar', asText); // STRING, CHAR, INTERVAL, NULL, USER_DEFINED_TYPE
  }
}

/** A named parameter (`:p1`) with the type the value has; STRING (the default) when it has none. */
export function databricksParameter(index: number, value: Value): { name: string; value?: string; type?: string } {
  const name = `p${index}`;
  if (value === null) return { name };
  if (typeof value === 'bigint') return { name, value: value.toString(), type: 'BIGINT' };
  if (typeof value === 'number') return { name, value: String(value), type: Number.isSafeInteger(value) ? 'BIGINT' : 'DOUBLE' };
  if (typeof value === 'boolean') return { name, value: String(value), type: 'BOOLEAN' };
  if (typeof value === 'string') return { name, value };
  if (value instanceof Uint8Array) return { name, value: Buffer.from(value).toString('hex') };
  return { name, value: JSON.stringify(value) };
}
