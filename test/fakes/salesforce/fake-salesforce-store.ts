import type { FakeField, FakeObject } from './fake-salesforce-objects.ts';
import { makeId, normalizeId } from './fake-salesforce-ids.ts';

/** One per-record error, as sObject Collections writes it. */
export interface RecordError {
  statusCode: string;
  message: string;
  fields: string[];
}

export type SaveResult =
  | { id: string; success: true; errors: []; created?: boolean }
  | { id?: string; success: false; errors: RecordError[]; created?: boolean };

export type StoredRecord = Record<string, unknown> & { Id: string };
export type LockRule = (record: Record<string, unknown>, object: string) => boolean;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const NUMBER_TYPES = new Set(['int', 'long', 'double', 'currency', 'percent']);

/**
 * The fake org's records and Salesforce's per-record rules: lengths, emails, restricted
 * picklists, numeric ranges, required fields, unique fields, ids, injected row locks.
 */
export class FakeStore {
  private readonly tables = new Map<string, Map<string, StoredRecord>>();
  private readonly deleted = new Set<string>();
  /** object -> field -> lower-cased value -> Ids, for the fields records are looked up by. */
  private readonly indexes = new Map<string, Map<string, Map<string, Set<string>>>>();
  private serial = 1;
  locks: { rule: LockRule; remaining: number }[] = [];

  constructor(private readonly objects: Record<string, FakeObject>) {}

  table(object: string): Map<string, StoredRecord> {
    let table = this.tables.get(object);
    if (!table) this.tables.set(object, (table = new Map()));
    return table;
  }

  insert(object: FakeObject, values: Record<string, unknown>): SaveResult {
    const errors = this.validate(object, values, undefined);
    if (errors.length) return { success: false, errors };
    const now = new Date().toISOString();
    const id = makeId(object.keyPrefix, this.serial++);
    const record: StoredRecord = { ...this.defaults(object), ...normalize(object, values), Id: id, CreatedDate: now, LastModifiedDate: now };
    this.table(object.name).set(id, record);
    this.index(object, record, 'add');
    return { id, success: true, errors: [] };
  }

  update(object: FakeObject, rawId: unknown, values: Record<string, unknown>): SaveResult {
    const found = this.find(object, rawId);
    if ('error' in found) return { success: false, errors: [found.error] };
    const errors = this.validate(object, values, found.record);
    if (errors.length) return { id: found.record.Id, success: false, errors };
    this.index(object, found.record, 'remove');
    Object.assign(found.record, normalize(object, values), { LastModifiedDate: new Date().toISOString() });
    this.index(object, found.record, 'add');
    return { id: found.record.Id, success: true, errors: [] };
  }

  upsert(object: FakeObject, field: string, values: Record<string, unknown>): SaveResult {
    const value = values[field];
    if (value === undefined || value === null || value === '') {
      return { success: false, errors: [{ statusCode: 'MISSING_ARGUMENT', message: `${field} not specified`, fields: [] }] };
    }
    const matches = this.matching(object.name, field, value);
    if (matches.length > 1) {
      return { success: false, errors: [{ statusCode: 'DUPLICATE_EXTERNAL_ID', message: `More than 1 record found for external id field: [${matches.map((record) => record.Id).join(', ')}]`, fields: [field] }] };
    }
    const result = matches.length ? this.update(object, matches[0].Id, values) : this.insert(object, values);
    return { ...result, created: !matches.length };
  }

  delete(object: FakeObject, rawId: unknown): SaveResult {
    const found = this.find(object, rawId);
    if ('error' in found) return { success: false, errors: [found.error] };
    const locked = this.lockError(object.name, found.record);
    if (locked) return { id: found.record.Id, success: false, errors: [locked] };
    this.index(object, found.record, 'remove');
    this.table(object.name).delete(found.record.Id);
    this.deleted.add(found.record.Id);
    return { id: found.record.Id, success: true, errors: [] };
  }

  matching(object: string, field: string, value: unknown): StoredRecord[] {
    const wanted = String(value).toLowerCase();
    const index = this.indexes.get(object)?.get(field);
    if (index) return [...(index.get(wanted) ?? [])].map((id) => this.table(object).get(id)!);
    return [...this.table(object).values()].filter((record) => record[field] !== null && record[field] !== undefined && String(record[field]).toLowerCase() === wanted);
  }

  private index(object: FakeObject, record: StoredRecord, action: 'add' | 'remove'): void {
    let byField = this.indexes.get(object.name);
    if (!byField) {
      byField = new Map(object.fields.filter((field) => field.idLookup || field.externalId || field.unique).map((field) => [field.name, new Map()]));
      this.indexes.set(object.name, byField);
    }
    for (const [name, index] of byField) {
      const value = record[name];
      if (value === null || value === undefined) continue;
      const key = String(value).toLowerCase();
      const ids = index.get(key) ?? new Set<string>();
      if (action === 'add') index.set(key, ids.add(record.Id));
      else ids.delete(record.Id);
    }
  }

  private find(object: FakeObject, rawId: unknown): { record: StoredRecord } | { error: RecordError } {
    if (rawId === undefined || rawId === null || rawId === '') {
      return { error: { statusCode: 'MISSING_ARGUMENT', message: 'Id not specified in an update call', fields: [] } };
    }
    const id = normalizeId(String(rawId));
    if (!id) return { error: { statusCode: 'MALFORMED_ID', message: `malformed id ${String(rawId)}`, fields: [] } };
    if (this.deleted.has(id)) return { error: { statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] } };
    const record = this.table(object.name).get(id);
    if (!record) return { error: { statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'invalid cross reference id', fields: [] } };
    return { record };
  }

  private validate(object: FakeObject, values: Record<string, unknown>, existing: StoredRecord | undefined): RecordError[] {
    const errors: RecordError[] = [];
    const fields = new Map(object.fields.map((field) => [field.name, field]));
    for (const [name, value] of Object.entries(values)) {
      const field = fields.get(name)!;
      const error = existing ? updateRule(field, value, existing) : createRule(field);
      if (error) errors.push(error);
      else errors.push(...valueErrors(field, value));
      if (field.unique && value !== null && value !== '') {
        const other = this.matching(object.name, name, value).find((record) => record.Id !== existing?.Id);
        if (other) errors.push({ statusCode: 'DUPLICATE_VALUE', message: `duplicate value found: ${name} duplicates value on record with id: ${other.Id}`, fields: [name] });
      }
    }
    if (!existing) {
      const missing = object.fields.filter((field) => !field.nillable && field.createable && !field.defaultedOnCreate && (values[field.name] === undefined || values[field.name] === null || values[field.name] === ''));
      if (missing.length) errors.push({ statusCode: 'REQUIRED_FIELD_MISSING', message: `Required fields are missing: [${missing.map((field) => field.name).join(', ')}]`, fields: missing.map((field) => field.name) });
    }
    if (!errors.length) {
      const locked = this.lockError(object.name, { ...existing, ...values });
      if (locked) errors.push(locked);
    }
    return errors;
  }

  private lockError(object: string, record: Record<string, unknown>): RecordError | undefined {
    const lock = this.locks.find((candidate) => candidate.remaining > 0 && candidate.rule(record, object));
    if (!lock) return undefined;
    lock.remaining--;
    return { statusCode: 'UNABLE_TO_LOCK_ROW', message: `unable to obtain exclusive access to this record or 1 records: ${String(record.Id ?? '')}`, fields: [] };
  }

  private defaults(object: FakeObject): Record<string, unknown> {
    return Object.fromEntries(object.fields.filter((field) => field.type === 'boolean').map((field) => [field.name, false]));
  }
}

function createRule(field: FakeField): RecordError | undefined {
  if (field.createable) return undefined;
  return { statusCode: 'INVALID_FIELD_FOR_INSERT_UPDATE', message: `Unable to create/update fields: ${field.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, fields: [field.name] };
}

function updateRule(field: FakeField, value: unknown, existing: StoredRecord): RecordError | undefined {
  if (field.updateable || field.name === 'Id' || existing[field.name] === value) return undefined;
  return createRule({ ...field, createable: false });
}

/** Salesforce's checks on one value (its JSON type was checked for the whole request before). */
function valueErrors(field: FakeField, value: unknown): RecordError[] {
  const fail = (statusCode: string, message: string): RecordError[] => [{ statusCode, message: `${field.label}: ${message}`, fields: [field.name] }];
  if (value === null || value === '') {
    return !field.nillable && field.type !== 'boolean' ? [{ statusCode: 'REQUIRED_FIELD_MISSING', message: `Required fields are missing: [${field.name}]`, fields: [field.name] }] : [];
  }
  if (NUMBER_TYPES.has(field.type)) {
    const number = Number(value);
    const digits = field.type === 'int' || field.type === 'long' ? field.digits || 18 : field.precision - field.scale;
    if (Math.abs(Math.trunc(number)).toString().length > digits) return fail('NUMBER_OUTSIDE_VALID_RANGE', `value outside of valid range on numeric field: ${String(value)}`);
    return [];
  }
  if (field.type === 'reference' && !normalizeId(String(value))) return fail('MALFORMED_ID', `id value of incorrect type: ${String(value)}`);
  const text = String(value);
  if (field.length && text.length > field.length && !['boolean', 'date', 'datetime', 'reference', 'id'].includes(field.type)) {
    return fail('STRING_TOO_LONG', `data value too large: ${text} (max length=${field.length})`);
  }
  if (field.type === 'email' && !EMAIL.test(text)) return fail('INVALID_EMAIL_ADDRESS', `invalid email address: ${text}`);
  if (field.type === 'picklist' && field.restrictedPicklist && !field.picklistValues.some((option) => option.active && option.value === text)) {
    return fail('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `bad value for restricted picklist field: ${text}`);
  }
  return [];
}

/** Values as the org keeps them: numbers as numbers, booleans as booleans, text as text. */
function normalize(object: FakeObject, values: Record<string, unknown>): Record<string, unknown> {
  const fields = new Map(object.fields.map((field) => [field.name, field]));
  return Object.fromEntries(Object.entries(values).map(([name, value]) => {
    const field = fields.get(name)!;
    if (value === null || value === '') return [name, field.type === 'boolean' ? false : null];
    if (NUMBER_TYPES.has(field.type)) return [name, Number(value)];
    if (field.type === 'boolean') return [name, value === true || value === 'true'];
    if (field.type === 'reference') return [name, normalizeId(String(value))];
    return [name, String(value)];
  }));
}
