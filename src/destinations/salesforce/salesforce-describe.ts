import type { FieldSpec, FieldType } from '../destination.ts';
import { SyncError } from '../../errors.ts';

/** The part of `/sobjects/{Object}/describe` Lastmile reads. */
export interface SalesforceField {
  name: string;
  label?: string;
  type: string;
  length?: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  externalId?: boolean;
  idLookup?: boolean;
  defaultedOnCreate?: boolean;
  restrictedPicklist?: boolean;
  picklistValues?: { value: string; active: boolean }[];
  precision?: number;
  scale?: number;
}

export interface SalesforceObjectDescription {
  name: string;
  fields: SalesforceField[];
}

const TYPES: Record<string, FieldType> = {
  string: 'string', textarea: 'string', phone: 'string', url: 'string', combobox: 'string',
  encryptedstring: 'string', multipicklist: 'string', time: 'string', base64: 'string',
  email: 'email', boolean: 'boolean', int: 'integer', long: 'integer',
  double: 'number', currency: 'number', percent: 'number',
  date: 'date', datetime: 'datetime', id: 'id', reference: 'id',
};

/** Salesforce's field metadata as the engine's FieldSpec (drives coercion before sending). */
export function fieldSpec(field: SalesforceField): FieldSpec {
  const restricted = field.type === 'picklist' && field.restrictedPicklist;
  const type: FieldType = restricted ? 'enum' : TYPES[field.type] ?? 'string';
  const spec: FieldSpec = { name: field.name, type };
  if (field.length && (type === 'string' || type === 'email' || type === 'enum')) spec.maxLength = field.length;
  if (type === 'id') spec.maxLength = 18;
  // What Salesforce itself answers REQUIRED_FIELD_MISSING for on create.
  if (!field.nillable && field.createable && !field.defaultedOnCreate) spec.required = true;
  if (restricted) spec.options = (field.picklistValues ?? []).filter((value) => value.active).map((value) => value.value);
  if (field.externalId || field.idLookup) spec.externalId = true;
  if (type === 'number' && field.precision) {
    spec.precision = field.precision;
    spec.scale = field.scale ?? 0;
  }
  return spec;
}

/**
 * Fails early (kind config) when the sync names a field the object does not have, writes a
 * read-only one, or upserts on a field that cannot identify a record.
 */
export function checkFields(
  destination: string,
  description: SalesforceObjectDescription,
  written: string[],
  externalIdField: string | undefined,
): Map<string, SalesforceField> {
  const byName = new Map(description.fields.map((field) => [field.name, field]));
  for (const name of written) {
    const field = byName.get(name);
    if (!field) {
      const near = description.fields.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
      throw new SyncError('config', `destination "${destination}": ${description.name} has no field ${name}${near ? ` (did you mean ${near.name}?)` : ''}; fix the sync's mapping`, { code: 'INVALID_FIELD', field: name });
    }
    if (!field.createable && !field.updateable && name !== externalIdField && name !== 'Id') {
      throw new SyncError('config', `destination "${destination}": ${description.name}.${name} is read-only (neither createable nor updateable); remove it from the mapping`, { field: name });
    }
  }
  if (externalIdField && externalIdField !== 'Id') {
    const field = byName.get(externalIdField);
    if (!field) throw new SyncError('config', `destination "${destination}": ${description.name} has no field ${externalIdField} to match records on`, { field: externalIdField });
    if (!field.externalId && !field.idLookup) {
      throw new SyncError('config', `destination "${destination}": ${description.name}.${externalIdField} is not an External ID (or idLookup) field, so Salesforce cannot upsert on it; mark it External ID or match on another field`, { field: externalIdField });
    }
  }
  return byName;
}
