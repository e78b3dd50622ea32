import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import type { FieldMapping, SyncConfig } from '../config/project.ts';
import type { FieldSpec, Rejection } from '../destinations/destination.ts';
import type { Row, Value } from '../sources/source.ts';
import { coerce } from './coerce.ts';
import { compileTemplate, type CompiledTemplate } from './template.ts';

export interface MappedRow {
  fields: Record<string, Value>;
  match: Record<string, Value>;
}

export interface Mapper {
  /** Model columns the mapped payload depends on (match + renamed + template inputs), sorted; all columns when a template's inputs cannot be known. */
  readonly columns: string[];
  /** Text that changes whenever the mapping (or the field types it coerces to) changes: part of every fingerprint. */
  readonly signature: string;
  map(row: Row): { ok: true; value: MappedRow } | { ok: false; rejection: Rejection };
}

/** Bump when coercion rules change what a value becomes: every row is then sent again. */
const COERCION_VERSION = 1;

type Result = { ok: true; value: MappedRow } | { ok: false; rejection: Rejection };

interface FieldStep {
  field: string;
  spec?: FieldSpec;
  /** The raw value, or an Error when a template fails on this row. */
  produce(row: Row): Value | Error;
}

/**
 * Builds the function that turns a model row into what a destination receives: match
 * identifiers, renamed columns, constants and Liquid templates, each coerced to the
 * destination field's declared type when `fields` (from describe()) gives one.
 */
export function createMapper(sync: SyncConfig, fields?: FieldSpec[], allColumns?: string[]): Mapper {
  const specFor = specLookup(fields);
  const matchSteps = Object.entries(sync.match).map(([column, field]) => ({ column, field, spec: specFor(field) }));
  const steps: FieldStep[] = [];
  const templates: CompiledTemplate[] = [];
  for (const [field, how] of Object.entries(sync.mapping)) {
    const spec = specFor(field);
    if (how.kind === 'column') steps.push({ field, spec, produce: (row) => read(row, how.column) });
    else if (how.kind === 'static') steps.push({ field, spec, produce: () => how.value as Value });
    else {
      const template = compile(sync, field, how.template);
      templates.push(template);
      steps.push({ field, spec, produce: (row) => render(template, row) });
    }
  }

  const map = (row: Row): Result => {
    const match: Record<string, Value> = {};
    const payload: Record<string, Value> = {};
    for (const { column, field, spec } of matchSteps) {
      const raw = read(row, column);
      const coerced = spec ? coerce(raw, spec) : { ok: true as const, value: raw };
      if (!coerced.ok) return mismatch(field, spec!, coerced.message);
      if (isEmpty(coerced.value)) {
        return reject('missing_identifier', field, `match column "${column}" is empty, so the record cannot be found by its identifier "${field}"`);
      }
      match[field] = coerced.value;
      payload[field] = coerced.value;
    }
    for (const { field, spec, produce } of steps) {
      const raw = produce(row);
      if (raw instanceof Error) return reject('invalid_row', field, `the template of field "${field}" failed on this row: ${raw.message}`);
      const coerced = spec ? coerce(raw, spec) : { ok: true as const, value: raw };
      if (!coerced.ok) return mismatch(field, spec!, coerced.message);
      if (spec?.required && coerced.value === null) return reject('schema_mismatch', field, `field "${field}" is required, but the value is empty`);
      payload[field] = coerced.value;
    }
    return { ok: true, value: { fields: payload, match } };
  };

  return { columns: inputColumns(sync, templates, allColumns), signature: signatureOf(sync, specFor), map };
}

function read(row: Row, column: string): Value {
  return Object.hasOwn(row, column) ? (row[column] ?? null) : null;
}

function render(template: CompiledTemplate, row: Row): Value | Error {
  try {
    return template.render(row);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function isEmpty(value: Value): boolean {
  return value === null || (typeof value === 'string' && value.trim() === '');
}

function reject(category: Rejection['category'], field: string, message: string): Result {
  return { ok: false, rejection: { category, field, message, retryable: false } };
}

function mismatch(field: string, spec: FieldSpec, message: string): Result {
  return reject('schema_mismatch', field, `field "${field}" (${spec.type}): ${message}`);
}

function compile(sync: SyncConfig, field: string, text: string): CompiledTemplate {
  try {
    return compileTemplate(text);
  } catch (error) {
    throw new ConfigError(`not a valid Liquid template: ${(error as Error).message}`, {
      file: sync.location?.file,
      line: sync.location?.lines?.[`mapping.${field}`] ?? sync.location?.line,
      field: `syncs.${sync.name}.mapping.${field}`,
    });
  }
}

/** Exact field names first; Salesforce and HubSpot names are case-insensitive, so fall back to that. */
function specLookup(fields: FieldSpec[] | undefined): (field: string) => FieldSpec | undefined {
  if (!fields) return () => undefined;
  const exact = new Map(fields.map((spec) => [spec.name, spec]));
  const folded = new Map(fields.map((spec) => [spec.name.toLowerCase(), spec]));
  return (field) => exact.get(field) ?? folded.get(field.toLowerCase());
}

function inputColumns(sync: SyncConfig, templates: CompiledTemplate[], allColumns: string[] | undefined): string[] {
  if (allColumns && templates.some((template) => template.inputs === undefined)) return [...new Set(allColumns)].sort();
  const columns = new Set(Object.keys(sync.match));
  for (const how of Object.values(sync.mapping)) if (how.kind === 'column') columns.add(how.column);
  for (const template of templates) for (const column of template.inputs ?? []) columns.add(column);
  return [...columns].sort();
}

/** A short hash of everything that decides the payload: match, mapping and the types values are coerced to. */
function signatureOf(sync: SyncConfig, specFor: (field: string) => FieldSpec | undefined): string {
  const entries = (record: Record<string, string | FieldMapping>) => Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const fieldNames = [...Object.values(sync.match), ...Object.keys(sync.mapping)].sort();
  const specs = fieldNames.map((field) => {
    const spec = specFor(field);
    return spec && [field, spec.type, spec.maxLength ?? null, spec.required ?? false, spec.options ?? null, spec.precision ?? null, spec.scale ?? null];
  });
  const text = JSON.stringify({ v: COERCION_VERSION, match: entries(sync.match), mapping: entries(sync.mapping), specs });
  return `m${COERCION_VERSION}:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}

