import { findProperty, type ObjectTypeDefinition, type PropertyDefinition } from './fake-schema.ts';

/** One failed property, as HubSpot lists it in "Property values were not valid: […]". */
export interface PropertyIssue {
  name: string;
  code: string;
  message: string;
}

const DAY_MS = 86_400_000;
// HubSpot's own check is looser than RFC 5322 but refuses what has no local part, no @ or no domain.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Checks the properties of one input the way HubSpot's CRM object APIs do. */
export function validateProperties(type: ObjectTypeDefinition, properties: Record<string, unknown>): PropertyIssue[] {
  const issues: PropertyIssue[] = [];
  for (const [name, raw] of Object.entries(properties)) {
    const def = findProperty(type, name);
    if (!def) {
      issues.push({ name, code: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      continue;
    }
    if (def.modificationMetadata.readOnlyValue) {
      issues.push({ name, code: 'READ_ONLY_VALUE', message: `${name} is a read only property; its value cannot be set.` });
      continue;
    }
    const issue = validateValue(def, raw);
    if (issue) issues.push({ name, ...issue });
  }
  return issues;
}

function validateValue(def: PropertyDefinition, raw: unknown): { code: string; message: string } | undefined {
  if (raw === null || raw === '') return undefined; // an empty value clears the property
  const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
  if (def.type !== 'string' && value !== value.trim()) {
    return { code: 'LEADING_TRAILING_WHITESPACE', message: `"${value}" includes leading or trailing whitespace.` };
  }
  switch (def.type) {
    case 'string':
      if (def.name === 'email' && !EMAIL.test(value)) return { code: 'INVALID_EMAIL', message: `Email address ${value} is invalid` };
      if (value.length > 65_536) return { code: 'INVALID_STRING', message: `${def.name} is longer than 65536 characters` };
      return undefined;
    case 'phone_number':
      return undefined;
    case 'number':
      // The code for a non-numeric number value is not documented; HubSpot's numbers are doubles.
      return Number.isFinite(Number(value)) ? undefined : { code: 'INVALID_DOUBLE', message: `${value} was not a valid number.` };
    case 'bool':
    case 'enumeration':
      return validateOption(def, value);
    case 'date':
      return validateDate(value);
    case 'datetime':
      if (/^-?\d+$/.test(value) || (ISO_DATETIME.test(value) && !Number.isNaN(Date.parse(value)))) return undefined;
      return { code: 'INVALID_LONG', message: `${value} was not a valid long.` };
  }
}

function validateOption(def: PropertyDefinition, value: string): { code: string; message: string } | undefined {
  const allowed = def.options.map((o) => o.value);
  // Multiple checkboxes take several options separated by semicolons.
  const picked = def.fieldType === 'checkbox' ? value.split(';').filter(Boolean) : [value];
  const bad = picked.find((v) => !allowed.includes(v));
  if (bad === undefined) return undefined;
  return { code: 'INVALID_OPTION', message: `${bad} was not one of the allowed options: [${allowed.join(', ')}]` };
}

/** Date properties take `YYYY-MM-DD` or epoch milliseconds at midnight UTC, nothing else. */
function validateDate(value: string): { code: string; message: string } | undefined {
  if (ISO_DATE.test(value)) {
    return Number.isNaN(Date.parse(value)) ? { code: 'INVALID_DATE', message: `${value} is not a valid date` } : undefined;
  }
  if (!/^-?\d+$/.test(value)) return { code: 'INVALID_LONG', message: `${value} was not a valid long.` };
  const ms = Number(value);
  const rest = ((ms % DAY_MS) + DAY_MS) % DAY_MS;
  if (rest === 0) return undefined;
  const at = new Date(ms);
  const time = `${at.getUTCHours()}:${at.getUTCMinutes()}:${at.getUTCSeconds()}.${at.getUTCMilliseconds()}`;
  return { code: 'INVALID_DATE', message: `${value} is at ${time} UTC, not midnight!` };
}

/** How HubSpot stores a value it accepted: dates as midnight epoch ms, emails in lower case. */
export function normaliseValue(def: PropertyDefinition | undefined, raw: unknown): string {
  if (raw === null || raw === undefined) return '';
  const value = typeof raw === 'string' ? raw : String(raw);
  if (!def || value === '') return value;
  if (def.type === 'date' && ISO_DATE.test(value)) return String(Date.parse(`${value}T00:00:00Z`));
  if (def.type === 'datetime') return new Date(/^-?\d+$/.test(value) ? Number(value) : value).toISOString();
  if (def.name === 'email') return value.toLowerCase();
  return value;
}
