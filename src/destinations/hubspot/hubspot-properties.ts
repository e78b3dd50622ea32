import type { FieldSpec } from '../destination.ts';
import type { Value } from '../../sources/source.ts';

/** A property definition, as `GET /crm/v3/properties/{objectType}` lists it. */
export interface HubspotProperty {
  name: string;
  label?: string;
  /** string, number, bool, date, datetime, enumeration, phone_number, object_coordinates… */
  type: string;
  /** How the UI shows it: text, number, booleancheckbox, select, radio, checkbox, date… */
  fieldType: string;
  options?: { value: string; label?: string }[];
  hasUniqueValue?: boolean;
  calculated?: boolean;
  modificationMetadata?: { readOnlyValue?: boolean };
}

/** HubSpot's limit for a string property value. */
const MAX_STRING = 65_536;
const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** What a property accepts, as the engine's coercion understands it. */
export function fieldSpecOf(p: HubspotProperty): FieldSpec {
  const spec = (type: FieldSpec['type'], extra: Partial<FieldSpec> = {}): FieldSpec => ({
    name: p.name,
    type,
    ...(p.hasUniqueValue ? { externalId: true } : {}),
    ...extra,
  });
  if (p.name === 'hs_object_id') return spec('id');
  if (p.name === 'email') return spec('email', { maxLength: MAX_STRING });
  switch (p.type) {
    case 'number': return spec('number');
    case 'bool': return spec('boolean');
    case 'date': return spec('date');
    case 'datetime': return spec('datetime');
    case 'enumeration':
      if (p.fieldType === 'booleancheckbox') return spec('boolean');
      // Multiple checkboxes take several options at once ("a;b"): one enum value cannot say that.
      if (p.fieldType === 'checkbox') return spec('string', { maxLength: MAX_STRING });
      return spec('enum', { options: (p.options ?? []).map((o) => o.value) });
    default: return spec('string', { maxLength: MAX_STRING });
  }
}

/** Whether upsert (or update by idProperty) may identify records by this property. */
export function canIdentifyBy(objectTypeId: string | undefined, p: HubspotProperty | undefined): boolean {
  if (!p) return false;
  return p.hasUniqueValue === true || (p.name === 'email' && objectTypeId === '0-1');
}

export function isReadOnly(p: HubspotProperty): boolean {
  return p.modificationMetadata?.readOnlyValue === true || p.calculated === true;
}

/**
 * A value as HubSpot takes it: a string. Dates go as `YYYY-MM-DD` (midnight UTC); a date
 * property given a time that is not midnight goes as epoch ms so that HubSpot, not Lastmile,
 * says what is wrong with it. Datetimes go as epoch milliseconds. Null clears the property.
 */
export function formatValue(value: Value, p: HubspotProperty | undefined): string {
  if (value === null) return '';
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'bigint') {
    return p?.type === 'date' && typeof value !== 'boolean' ? formatDate(String(value)) : String(value);
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) {
    return p?.type === 'enumeration' ? value.map((v) => formatValue(v, undefined)).join(';') : JSON.stringify(value, bigintSafe);
  }
  if (typeof value === 'object') return JSON.stringify(value, bigintSafe);
  if (p?.type === 'date') return formatDate(value);
  if (p?.type === 'datetime') return formatDatetime(value);
  return value;
}

function formatDate(text: string): string {
  if (ISO_DATE.test(text)) return text;
  const ms = /^-?\d+$/.test(text) ? Number(text) : ISO_TIMESTAMP.test(text) ? parseUtc(text) : NaN;
  if (Number.isNaN(ms)) return text;
  return ms % DAY_MS === 0 ? new Date(ms).toISOString().slice(0, 10) : String(ms);
}

function formatDatetime(text: string): string {
  if (ISO_DATE.test(text)) return String(Date.parse(`${text}T00:00:00Z`));
  if (!ISO_TIMESTAMP.test(text)) return text;
  const ms = parseUtc(text);
  return Number.isNaN(ms) ? text : String(ms);
}

/** Timestamps without a zone are UTC (the sources' contract), never the machine's local time. */
function parseUtc(text: string): number {
  const iso = text.replace(' ', 'T');
  return Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
}

function bigintSafe(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
