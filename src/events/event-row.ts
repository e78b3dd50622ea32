import type { Column, Row, Value } from '../sources/source.ts';
import { canonicalDate, canonicalTime, canonicalTimestamp, canonicalTimestamptz } from '../sources/canonical-values.ts';

/**
 * An event's row as JSON arrives, checked against the model's columns and turned into the
 * canonical value form sources hand over (source.ts): the same row a warehouse read would give,
 * so the mapping and the fingerprint treat it exactly as a run does.
 */
export type EventRowCheck = { ok: true; row: Row } | { ok: false; message: string };

export interface EventColumns {
  /** The model's columns with their logical types. */
  columns: Column[];
  /** Primary key columns. */
  primaryKey: string[];
  /** Columns the mapping reads: an event must hold each (null is a value; absence is a mistake). */
  required: string[];
}

export function checkEventRow(input: unknown, model: EventColumns): EventRowCheck {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, message: 'an event is a JSON object of the model\'s columns' };
  }
  const byName = new Map(model.columns.map((c) => [c.name, c]));
  const unknown = Object.keys(input).filter((name) => !byName.has(name));
  if (unknown.length) {
    return { ok: false, message: `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')} (the model's columns: ${[...byName.keys()].join(', ')})` };
  }
  const given = input as Record<string, unknown>;
  for (const key of model.primaryKey) {
    const value = given[key];
    if (value === undefined || value === null || value === '') return { ok: false, message: `primary key column "${key}" is missing or empty` };
  }
  const missing = model.required.filter((name) => !Object.hasOwn(given, name));
  if (missing.length) return { ok: false, message: `column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} missing: the mapping reads ${missing.length > 1 ? 'them' : 'it'} (send null for an empty value)` };
  const row: Row = {};
  for (const [name, value] of Object.entries(given)) {
    const column = byName.get(name)!;
    try {
      row[name] = canonicalValue(value, column);
    } catch (error) {
      return { ok: false, message: `column "${name}" (${column.type}): ${(error as Error).message}` };
    }
  }
  return { ok: true, row };
}

function canonicalValue(value: unknown, column: Column): Value {
  if (value === null) return null;
  switch (column.type) {
    case 'integer': case 'bigint': {
      const text = numeric(value);
      if (!/^-?\d+$/.test(text)) throw new Error(`${show(value)} is not an integer`);
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    case 'decimal': {
      const text = numeric(value);
      if (!/^-?\d+(\.\d+)?$/.test(text)) throw new Error(`${show(value)} is not a decimal number`);
      return text;
    }
    case 'double': {
      const n = typeof value === 'number' ? value : Number(numeric(value));
      if (Number.isNaN(n) && value !== 'NaN') throw new Error(`${show(value)} is not a number`);
      return n;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      throw new Error(`${show(value)} is not true or false`);
    case 'varchar':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new Error(`${show(value)} is not text`);
    case 'date': return canonicalDate(text(value));
    case 'time': return canonicalTime(text(value));
    case 'timestamp': return canonicalTimestamp(text(value));
    case 'timestamptz': return canonicalTimestamptz(text(value));
    case 'json': return value as Value;
    case 'blob':
      if (typeof value !== 'string') throw new Error('binary values are sent as base64 text');
      return new Uint8Array(Buffer.from(value, 'base64'));
  }
}

function numeric(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${value} is not a finite number`);
    return String(value).includes('e') ? value.toFixed(20).replace(/\.?0+$/, '') : String(value);
  }
  if (typeof value === 'string') return value.trim();
  throw new Error(`${show(value)} is not a number`);
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error(`${show(value)} is not text`);
  return value;
}

function show(value: unknown): string {
  const json = JSON.stringify(value);
  return json && json.length > 40 ? `${json.slice(0, 40)}…` : String(json);
}
