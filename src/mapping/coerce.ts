import type { FieldSpec } from '../destinations/destination.ts';
import type { Value } from '../sources/source.ts';

export type Coerced = { ok: true; value: Value } | { ok: false; message: string };

/**
 * Turns a model value into what the destination field's declared type accepts, or says why
 * it cannot. Null stays null (whether a field may be empty is the caller's check). An empty
 * string counts as empty for every type but text, since CSV files and spreadsheets write
 * missing numbers and dates that way.
 */
export function coerce(value: Value | undefined, spec: FieldSpec): Coerced {
  if (value === null || value === undefined) return ok(null);
  if (value === '' && spec.type !== 'string' && spec.type !== 'json') return ok(null);
  switch (spec.type) {
    case 'string': return toText(value, spec);
    case 'integer': return toInteger(value);
    case 'number': return toNumber(value, spec);
    case 'boolean': return toBoolean(value);
    case 'date': return toDate(value);
    case 'datetime': return toDatetime(value);
    case 'email': return toEmail(value);
    case 'enum': return toOption(value, spec);
    case 'id': return toId(value);
    case 'json': return ok(value);
  }
}

const ok = (value: Value): Coerced => ({ ok: true, value });
const fail = (value: Value, expected: string): Coerced => ({ ok: false, message: `${describe(value)} is not ${expected}` });

/** A value as a rejection shows it: short, and the kind of thing rather than a whole object. */
export function describe(value: Value): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 50 ? `${value.slice(0, 47)}...` : value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `binary data (${value.length} bytes)`;
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

function toText(value: Value, spec: FieldSpec): Coerced {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail(value, 'text a destination can store');
    text = String(value);
  } else if (typeof value === 'bigint' || typeof value === 'boolean') text = String(value);
  else if (value instanceof Uint8Array) return fail(value, 'text');
  else text = JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item));
  if (spec.maxLength !== undefined) {
    const length = [...text].length;
    if (length > spec.maxLength) return { ok: false, message: `text of ${length} characters is longer than the field's maximum of ${spec.maxLength}` };
  }
  return ok(text);
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function toInteger(value: Value): Coerced {
  if (typeof value === 'bigint') return ok(Number.isSafeInteger(Number(value)) ? Number(value) : value);
  if (typeof value === 'number') return Number.isInteger(value) ? ok(value) : fail(value, 'an integer');
  if (typeof value === 'string') {
    const text = value.trim();
    const whole = /^([+-]?\d+)(\.0*)?$/.exec(text);
    if (whole) {
      const big = BigInt(whole[1]);
      return ok(Number.isSafeInteger(Number(big)) ? Number(big) : big);
    }
    if (DECIMAL.test(text) && Number.isSafeInteger(Number(text))) return ok(Number(text));
  }
  return fail(value, 'an integer');
}

function toNumber(value: Value, spec: FieldSpec): Coerced {
  let result: Value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return fail(value, 'a finite number');
    result = value;
  } else if (typeof value === 'bigint') {
    result = Number.isSafeInteger(Number(value)) ? Number(value) : value;
  } else if (typeof value === 'string' && DECIMAL.test(value.trim())) {
    result = exactNumber(value.trim());
  } else {
    return fail(value, 'a number');
  }
  if (spec.precision !== undefined && spec.scale !== undefined) {
    const digits = integerDigits(result);
    if (digits > spec.precision - spec.scale) {
      return { ok: false, message: `${describe(value)} has ${digits} digits before the decimal point; the field holds at most ${spec.precision - spec.scale}` };
    }
  }
  return ok(result);
}

/** A number when it says exactly what the text says; otherwise the text, so no digit is lost. */
function exactNumber(text: string): Value {
  const number = Number(text);
  if (String(number) === text) return number; // the common case, without rebuilding digits
  const written = canonicalDecimal(text);
  const exact = Number.isFinite(number) && written !== undefined && canonicalDecimal(String(number)) === written;
  return exact ? number : text.replace(/^\+/, '');
}

/** `+012.3400`, `12.34` and `1.234e1` read the same: plain digits, no exponent, no padding zeros. */
function canonicalDecimal(text: string): string | undefined {
  const match = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction, exponent = '0'] = match;
  const shift = Number(exponent);
  if (Math.abs(shift) > 400) return undefined;
  const digits = whole + fraction;
  const point = whole.length + shift;
  const plain = point <= 0
    ? `0.${'0'.repeat(-point)}${digits}`
    : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  const [integerPart, decimals = ''] = plain.split('.');
  const integer = integerPart.replace(/^0+(?=\d)/, '') || '0';
  const trimmed = decimals.replace(/0+$/, '');
  const body = trimmed ? `${integer}.${trimmed}` : integer;
  return body === '0' ? '0' : `${sign === '-' ? '-' : ''}${body}`;
}

function integerDigits(value: Value): number {
  let text = String(value).replace(/^[+-]/, '');
  if (/e/i.test(text)) {
    const number = Math.trunc(Math.abs(Number(value)));
    if (!Number.isFinite(number)) return Infinity;
    text = BigInt(number).toString();
  }
  return text.split('.')[0].replace(/^0+/, '').length;
}

const TRUE_WORDS = new Set(['true', 'yes', '1']);
const FALSE_WORDS = new Set(['false', 'no', '0']);

function toBoolean(value: Value): Coerced {
  if (typeof value === 'boolean') return ok(value);
  if ((typeof value === 'number' || typeof value === 'bigint') && (value == 0 || value == 1)) return ok(value == 1);
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return ok(true);
    if (FALSE_WORDS.has(word)) return ok(false);
  }
  return fail(value, 'a boolean (true/false, yes/no, 1/0)');
}

/** `2024-03-01`, `2024-03-01T12:00:00.123456`, `2024-03-01 12:00:00+02:00`, … */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function toDate(value: Value): Coerced {
  const parts = typeof value === 'string' ? parseTimestamp(value.trim()) : undefined;
  if (!parts) return fail(value, 'a date (YYYY-MM-DD)');
  return ok(parts.utcIso.slice(0, 10));
}

function toDatetime(value: Value): Coerced {
  const parts = typeof value === 'string' ? parseTimestamp(value.trim()) : undefined;
  if (!parts) return fail(value, 'a date-time (ISO 8601, like 2024-03-01T12:00:00Z)');
  return ok(parts.utcIso);
}

/**
 * A timestamp as an ISO instant in UTC. Without a zone it is taken as UTC (the warehouse's
 * convention); sub-millisecond digits are kept, since a zone offset never changes them.
 */
function parseTimestamp(text: string): { utcIso: string } | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone] = match;
  const base = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const check = new Date(base);
  const valid = check.getUTCFullYear() === Number(year) && check.getUTCMonth() === Number(month) - 1 && check.getUTCDate() === Number(day)
    && Number(hour) < 24 && Number(minute) < 60 && Number(second) < 60;
  if (!valid) return undefined;
  const instant = new Date(base - offsetMinutes(zone) * 60_000);
  if (!match[4]) return { utcIso: `${instant.toISOString().slice(0, 10)}T00:00:00Z` };
  return { utcIso: `${instant.toISOString().slice(0, 19)}${fraction}Z` };
}

function offsetMinutes(zone: string | undefined): number {
  if (!zone || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.replace(':', '');
  const sign = digits[0] === '-' ? -1 : 1;
  return sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5) || 0));
}

const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

function toEmail(value: Value): Coerced {
  if (typeof value === 'string' && EMAIL.test(value.trim())) return ok(value.trim());
  return fail(value, 'an email address');
}

function toOption(value: Value, spec: FieldSpec): Coerced {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') {
    return fail(value, 'one of the field\'s options');
  }
  const text = String(value);
  if (!spec.options || spec.options.length === 0 || spec.options.includes(text)) return ok(text);
  const shown = spec.options.slice(0, 10).join(' | ') + (spec.options.length > 10 ? ` (and ${spec.options.length - 10} more)` : '');
  return fail(value, `one of ${shown}`);
}

function toId(value: Value): Coerced {
  if (typeof value === 'string') return value.trim() ? ok(value.trim()) : ok(null);
  if (typeof value === 'number' && Number.isFinite(value)) return ok(String(value));
  if (typeof value === 'bigint') return ok(value.toString());
  return fail(value, 'an identifier (text or number)');
}
