import type { Value } from '../../sources/source.ts';
import type { SalesforceField } from './salesforce-describe.ts';

const NUMBER_TYPES = new Set(['int', 'long', 'double', 'currency', 'percent']);
const NUMERIC_TEXT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[-+]\d{2}:?\d{2})?)?$/;

/**
 * Why Salesforce could not read `value` as the field's type, or undefined when it can.
 * Salesforce fails a whole sObject Collections request on one such value (JSON_PARSER_ERROR),
 * so such a row is refused here instead, alone.
 */
export function typeProblem(value: Value, field: SalesforceField): string | undefined {
  if (value === null) return undefined;
  if (NUMBER_TYPES.has(field.type)) {
    const ok = typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && NUMERIC_TEXT.test(value.trim()));
    if (!ok) return `${field.name}: value not of required type ${field.type}: ${preview(value)}`;
    if ((field.type === 'int' || field.type === 'long') && !Number.isInteger(Number(value))) {
      return `${field.name}: value not of required type ${field.type} (a whole number): ${preview(value)}`;
    }
    return undefined;
  }
  if (field.type === 'boolean') {
    return typeof value === 'boolean' || value === 'true' || value === 'false' ? undefined : `${field.name}: value not of required type boolean: ${preview(value)}`;
  }
  if (field.type === 'date' && !(typeof value === 'string' && DATE.test(value.slice(0, 10)) && validDate(value.slice(0, 10)))) {
    return `${field.name}: value not of required type date (YYYY-MM-DD): ${preview(value)}`;
  }
  if (field.type === 'datetime' && !(typeof value === 'string' && DATETIME.test(value) && validDate(value.slice(0, 10)))) {
    return `${field.name}: value not of required type datetime (ISO 8601): ${preview(value)}`;
  }
  return undefined;
}

/** A value as sObject Collections' JSON carries it. */
export function jsonValue(value: Value, field: SalesforceField | undefined): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return field && !NUMBER_TYPES.has(field.type) ? String(value) : value;
  if (typeof value === 'string') return value;
  return text(value, field);
}

/**
 * A value as a Bulk API 2.0 CSV cell. An empty cell leaves a field as it is, so null is
 * written `#N/A`, which Bulk API reads as "set to null".
 */
export function csvValue(value: Value, field: SalesforceField | undefined): string {
  if (value === null) return '#N/A';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return text(value, field);
}

function text(value: Value, field: SalesforceField | undefined): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value) && field?.type === 'multipicklist') return value.map(String).join(';');
  return JSON.stringify(value, (_key, inner) => (typeof inner === 'bigint' ? inner.toString() : inner));
}

function validDate(text: string): boolean {
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

function preview(value: Value): string {
  const shown = typeof value === 'string' ? value : JSON.stringify(value, (_key, inner) => (typeof inner === 'bigint' ? inner.toString() : inner)) ?? String(value);
  return shown.length > 60 ? `${shown.slice(0, 57)}…` : shown;
}
