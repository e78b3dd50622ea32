import type { Value } from './source.ts';

/**
 * The canonical text forms of dates and times (see `Value` in source.ts), and their parsers.
 * Every source formats through these functions, so one instant reads the same from DuckDB,
 * Postgres, MySQL or SQLite, and fingerprints of equal rows are equal whatever the engine.
 *
 * Fractions always carry six digits (microseconds): `2024-03-01T12:00:00.123000Z`. Years
 * outside 0000–9999 take ISO's expanded form, as `Date#toISOString` writes them: `-000043-03-15`.
 */

const MS_PER_DAY = 86_400_000;
const MICROS_PER_DAY = 86_400_000_000;
const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DIGITS2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

// Rows of one table share few distinct days: remembering their text saves a Date per value.
const dateTexts = new Map<number, string>();
const DATE_CACHE_LIMIT = 100_000;

/** `YYYY-MM-DD` for a count of days since 1970-01-01. */
export function formatDate(days: number): string {
  let text = dateTexts.get(days);
  if (text !== undefined) return text;
  const date = new Date(days * MS_PER_DAY);
  if (Number.isNaN(date.getTime())) return days > 0 ? 'infinity' : '-infinity';
  const iso = date.toISOString();
  text = iso.slice(0, iso.indexOf('T'));
  if (dateTexts.size >= DATE_CACHE_LIMIT) dateTexts.clear();
  dateTexts.set(days, text);
  return text;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.ffffff` for microseconds since the epoch, with a trailing `Z` when
 * `utc` (timestamptz). Out-of-range values (DuckDB's and Postgres' infinity) read `infinity`.
 */
export function formatTimestamp(micros: bigint | number, utc: boolean): string {
  let days: number;
  let dayMicros: number;
  const asNumber = Number(micros);
  if (Number.isSafeInteger(asNumber)) {
    days = Math.floor(asNumber / MICROS_PER_DAY);
    dayMicros = asNumber - days * MICROS_PER_DAY;
  } else {
    // Beyond 2^53 µs (after the year 2255): split with bigint so no microsecond is lost.
    const big = BigInt(micros);
    const perDay = BigInt(MICROS_PER_DAY);
    let remainder = big % perDay;
    let quotient = big / perDay;
    if (remainder < 0n) { remainder += perDay; quotient -= 1n; }
    days = Number(quotient);
    dayMicros = Number(remainder);
  }
  const date = formatDate(days);
  if (date === 'infinity' || date === '-infinity') return date;
  return `${date}T${formatTime(dayMicros)}${utc ? 'Z' : ''}`;
}

/** `HH:MM:SS.ffffff` for microseconds since midnight. */
export function formatTime(micros: bigint | number): string {
  const total = Number(micros);
  const seconds = Math.floor(total / 1_000_000);
  const fraction = total - seconds * 1_000_000;
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const hours = h < 100 ? DIGITS2[h] : String(h); // Postgres allows 24:00:00
  return `${hours}:${DIGITS2[m]}:${DIGITS2[s]}.${DIGITS3[Math.floor(fraction / 1000)]}${DIGITS3[fraction % 1000]}`;
}

const DATE_TEXT = /^([+-]?\d{4,})-(\d{2})-(\d{2})( BC)?$/;
const TIMESTAMP_TEXT =
  /^([+-]?\d{4,})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?( BC)?$/i;
const TIME_TEXT = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/** Days since 1970-01-01 for `YYYY-MM-DD` (also Postgres' `… BC`); throws on anything else. */
export function parseDate(text: string): number {
  const match = DATE_TEXT.exec(text);
  if (!match) {
    if (text === 'infinity' || text === '-infinity') return text === 'infinity' ? Infinity : -Infinity;
    throw new Error(`"${text}" is not a date (expected YYYY-MM-DD)`);
  }
  const year = match[4] ? 1 - Number(match[1]) : Number(match[1]);
  return utcMs(year, Number(match[2]), Number(match[3])) / MS_PER_DAY;
}

/**
 * Microseconds since the epoch for an ISO-like timestamp: `2024-03-01T12:00:00.123456`,
 * with a space instead of `T`, and an optional zone (`Z`, `+02`, `+05:30`). A zone moves the
 * instant to UTC; without one the wall-clock time is taken as is.
 * A number while exact (within 2^53 µs of 1970), else a bigint; `infinity` / `-infinity` give ±Infinity.
 */
export function parseTimestamp(text: string): number | bigint {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) {
    if (text === 'infinity' || text === '-infinity') return text === 'infinity' ? Infinity : -Infinity;
    throw new Error(`"${text}" is not a timestamp (expected YYYY-MM-DDTHH:MM:SS[.ffffff][Z])`);
  }
  const year = match[9] ? 1 - Number(match[1]) : Number(match[1]);
  const ms = utcMs(year, Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]));
  const micros = (ms - (match[8] ? zoneOffsetMs(match[8]) : 0)) * 1000 + fractionMicros(match[7]);
  if (Number.isSafeInteger(micros)) return micros;
  // Beyond 2^53 µs from 1970 (before 1685 or after 2255): exact with bigint.
  return BigInt(ms - (match[8] ? zoneOffsetMs(match[8]) : 0)) * 1000n + BigInt(fractionMicros(match[7]));
}

/** Microseconds since midnight for `HH:MM:SS[.ffffff]`. */
export function parseTime(text: string): number {
  const match = TIME_TEXT.exec(text);
  if (!match) throw new Error(`"${text}" is not a time (expected HH:MM:SS[.ffffff])`);
  const seconds = Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
  return seconds * 1_000_000 + fractionMicros(match[4]);
}

/** Canonical timestamptz from an engine's text (`2024-03-01 12:00:00.5+02`). */
export function canonicalTimestamptz(text: string): string {
  const micros = parseTimestamp(text);
  return infinite(micros) ?? formatTimestamp(micros, true);
}

/** Canonical timestamp without zone from an engine's text (`2024-03-01 12:00:00.5`). */
export function canonicalTimestamp(text: string): string {
  const micros = parseTimestamp(text);
  return infinite(micros) ?? formatTimestamp(micros, false);
}

/** Canonical date from an engine's text (`2024-03-01`, `0044-03-15 BC`). */
export function canonicalDate(text: string): string {
  if (text.length === 10 && DATE_TEXT.test(text)) return text;
  const days = parseDate(text);
  return Number.isFinite(days) ? formatDate(days) : text;
}

/** Canonical time from an engine's text (`12:00:00`, `12:00:00.5`). */
export function canonicalTime(text: string): string {
  return formatTime(parseTime(text));
}

function infinite(micros: number | bigint): string | undefined {
  if (micros === Infinity) return 'infinity';
  if (micros === -Infinity) return '-infinity';
  return undefined;
}

function utcMs(year: number, month: number, day: number, h = 0, m = 0, s = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // setUTCFullYear: Date.UTC maps years 0–99 to 19xx
  date.setUTCHours(h, m, s, 0);
  return date.getTime();
}

function fractionMicros(digits: string | undefined): number {
  if (!digits) return 0;
  return Number(digits.length >= 6 ? digits.slice(0, 6) : digits.padEnd(6, '0'));
}

function zoneOffsetMs(zone: string): number {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replaceAll(':', '');
  const h = Number(digits.slice(0, 2));
  const m = Number(digits.slice(2, 4) || 0);
  const s = Number(digits.slice(4, 6) || 0);
  return sign * ((h * 60 + m) * 60 + s) * 1000;
}

/** Binary as a plain Uint8Array (drivers hand Buffers): equal bytes compare equal whatever the engine. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** JSON text of a Value; bigints keep every digit, binary becomes an array of bytes. */
export function stringifyJson(value: Value): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint': return value.toString();
    case 'number': return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean': return String(value);
    case 'string': return JSON.stringify(value);
  }
  if (value instanceof Uint8Array) return JSON.stringify(Array.from(value));
  if (Array.isArray(value)) return `[${value.map(stringifyJson).join(',')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${stringifyJson(v)}`).join(',')}}`;
}

/** Parsed JSON, or the text itself when it is not valid JSON. */
export function parseJson(text: string): Value {
  try {
    return JSON.parse(text) as Value;
  } catch {
    return text;
  }
}
