import type { Row } from '../../src/sources/source.ts';
import type { FingerprintColumn } from '../../src/diff/fingerprint/fingerprint-v1.ts';
import { formatDate, formatTime, formatTimestamp } from '../../src/sources/canonical-values.ts';
import { seeded } from '../helpers/seeded-random.ts';

/**
 * Generated rows for the recipe's agreement test: one column per canonical type, values drawn
 * from edge cases and random ones, ~5 % nulls. Each row comes twice: as the canonical values a
 * source hands over, and as the text both DuckDB and Postgres cast into the column's type.
 */
export interface TypedColumn extends FingerprintColumn {
  duckdb: string;
  postgres: string;
}

export const COLUMNS: TypedColumn[] = [
  { name: 'id', type: 'bigint', duckdb: 'BIGINT', postgres: 'int8' },
  { name: 'tag', type: 'varchar', duckdb: 'VARCHAR', postgres: 'text' },
  { name: 'n', type: 'integer', duckdb: 'INTEGER', postgres: 'int4' },
  { name: 'big', type: 'bigint', duckdb: 'BIGINT', postgres: 'int8' },
  { name: 'amount', type: 'decimal', precision: 18, scale: 4, duckdb: 'DECIMAL(18,4)', postgres: 'numeric(18,4)' },
  { name: 'wide', type: 'decimal', precision: 38, scale: 10, duckdb: 'DECIMAL(38,10)', postgres: 'numeric(38,10)' },
  { name: 'ratio', type: 'double', duckdb: 'DOUBLE', postgres: 'float8' },
  { name: 'label', type: 'varchar', duckdb: 'VARCHAR', postgres: 'text' },
  { name: 'flag', type: 'boolean', duckdb: 'BOOLEAN', postgres: 'boolean' },
  { name: 'day', type: 'date', duckdb: 'DATE', postgres: 'date' },
  { name: 'at_time', type: 'time', duckdb: 'TIME', postgres: 'time' },
  { name: 'local_ts', type: 'timestamp', duckdb: 'TIMESTAMP', postgres: 'timestamp' },
  { name: 'instant', type: 'timestamptz', duckdb: 'TIMESTAMPTZ', postgres: 'timestamptz' },
  { name: 'doc', type: 'json', duckdb: 'JSON', postgres: 'jsonb' },
  { name: 'bytes', type: 'blob', duckdb: 'BLOB', postgres: 'bytea' },
];
export const KEY = COLUMNS.slice(0, 2);

export interface GeneratedRow {
  /** Canonical values, as a source hands them over. */
  row: Row;
  /** Column → text to cast into the column's type (null for NULL); blobs as hex. */
  text: Record<string, string | null>;
}

// Text that tests escaping and byte lengths: separators, backslashes, `\N`, quotes, astral and
// combining characters, line separators, every control character Postgres can store.
const PIECES = ['a', 'Z', '7', ' ', '|', '\\', '\\N', '"', "'", ',', ':', '{', ']', 'é', 'e\u0301', '😀', 'ß', '∑', '中文',
  '\u2028', '\ufeff', '\t', '\n', '\r', '\u000b', '\u001f', '\u0001', '\u007f', '/', '.0', '-0'];
const DOUBLES = [0, -0, 0.1, 100, 1e21, 1e20, 1.5e-7, 1e-6, 1e-7, 1e15, 1e16, 1e-5, 123456789012345680000, 5e-324,
  1.7976931348623157e308, -2.5, NaN, Infinity, -Infinity, 2 ** 53, 1 / 3, 1234567.125];
const FIRST_MICROS = -62_135_596_800_000_000; // 0001-01-01T00:00:00
const LAST_MICROS = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999

export function generateRows(count: number, seed: number): GeneratedRow[] {
  const random = seeded(seed);
  const int = (below: number) => Math.floor(random() * below);
  const pick = <T>(list: T[]): T => list[int(list.length)]!;
  const text = (max: number) => Array.from({ length: int(max + 1) }, () => pick(PIECES)).join('');
  const micros = () => (random() < 0.5 ? int(4_102_444_800_000_000) : FIRST_MICROS + Math.floor(random() * (LAST_MICROS - FIRST_MICROS)));

  const rows: GeneratedRow[] = [];
  for (let id = 0; id < count; id++) {
    const values: Record<string, [unknown, string] | null> = {
      id: [id, String(id)],
      tag: ((t) => [t, t])(text(4)),
      n: ((v) => [v, String(v)])(int(2 ** 32) - 2 ** 31),
      big: bigValue(random, int),
      amount: decimalText(int, 14, 4),
      wide: decimalText(int, 28, 10),
      ratio: ((v) => [v, String(v)])(random() < 0.3 ? pick(DOUBLES) : randomDouble(random, int)),
      label: ((t) => [t, t])(random() < 0.1 ? pick(['', '\\N', '|', '\\', 'null']) : text(12)),
      flag: ((v) => [v, String(v)])(random() < 0.5),
      day: random() < 0.01 ? ['infinity', 'infinity'] : ((d) => [d, d])(formatDate(int(3_652_059) - 719_162)),
      at_time: ((t) => [t, t])(formatTime(int(86_400_000_000))),
      local_ts: random() < 0.01 ? ['-infinity', '-infinity'] : ((t) => [t, t])(formatTimestamp(micros(), false)),
      instant: ((m) => [formatTimestamp(m, true), `${formatTimestamp(m, false).replace('T', ' ')}+00`])(micros()),
      doc: jsonValue(random, int, text),
      bytes: ((b) => [b, Buffer.from(b).toString('hex')])(Uint8Array.from({ length: int(6) }, () => int(256))),
    };
    const row: Row = {};
    const texts: Record<string, string | null> = {};
    for (const column of COLUMNS) {
      const value = column.name === 'id' || column.name === 'tag' || random() >= 0.05 ? values[column.name] : null;
      row[column.name] = value ? (value[0] as Row[string]) : null;
      texts[column.name] = value ? value[1] : null;
    }
    rows.push({ row, text: texts });
  }
  return rows;
}

function bigValue(random: () => number, int: (below: number) => number): [unknown, string] {
  const edge = [2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, 0n, -1n];
  const big = random() < 0.2 ? edge[int(edge.length)]! : BigInt(int(2 ** 31)) * BigInt(int(2 ** 31)) * (random() < 0.5 ? -1n : 1n);
  const asNumber = Number(big);
  return [Number.isSafeInteger(asNumber) ? asNumber : big, big.toString()];
}

/** Exact decimal text, the way sources hand it over (`-12.3400`: every digit, trailing zeros too). */
function decimalText(int: (below: number) => number, integerDigits: number, scale: number): [unknown, string] {
  const digits = (n: number) => Array.from({ length: n }, () => int(10)).join('');
  const whole = digits(1 + int(integerDigits)).replace(/^0+(?=\d)/, '');
  const fraction = int(4) === 0 ? '0'.repeat(scale) : digits(scale);
  const sign = int(3) === 0 && (whole !== '0' || /[1-9]/.test(fraction)) ? '-' : '';
  const text = `${sign}${whole}.${fraction}`;
  return [text, text];
}

/** Any finite double from its bits, or a short decimal, or an integer. */
function randomDouble(random: () => number, int: (below: number) => number): number {
  const kind = int(3);
  if (kind === 0) return Number((random() * 10 ** int(12)).toFixed(int(6)));
  if (kind === 1) return int(2 ** 31) - 2 ** 30;
  const bits = new DataView(new ArrayBuffer(8));
  bits.setUint32(0, int(2 ** 32));
  bits.setUint32(4, int(2 ** 32));
  const value = bits.getFloat64(0);
  return Number.isFinite(value) ? value : 0.5;
}

/**
 * JSON inside the documented agreement domain: members already in jsonb's order (shorter
 * keys first, then by bytes), no integer-like keys, numbers exact as doubles in [1e-6, 1e21).
 */
function jsonValue(random: () => number, int: (below: number) => number, text: (max: number) => string): [unknown, string] {
  const keys = ['a', 'k', 'ab', 'id', 'name', 'név', 'tags', 'price', 'nested'];
  const numbers = [0, -3, 42, 2.5, 0.001, 1e20, 123456.789, -0.5, 1e-6];
  const value = (depth: number): unknown => {
    const kind = int(depth > 1 ? 4 : 6);
    if (kind === 0) return null;
    if (kind === 1) return random() < 0.5;
    if (kind === 2) return numbers[int(numbers.length)];
    if (kind === 3) return text(5);
    if (kind === 4) return Array.from({ length: int(4) }, () => value(depth + 1));
    const object: Record<string, unknown> = {};
    for (const key of keys) if (random() < 0.3) object[key] = value(depth + 1);
    return object;
  };
  const parsed = value(0);
  return [parsed, writeJson(parsed, int)];
}

/** JSON as a warehouse might hold it: spaces around separators, numbers with trailing zeros (`2.50`, `42.0`). */
function writeJson(value: unknown, int: (below: number) => number): string {
  const space = () => (int(3) === 0 ? ' ' : '');
  if (typeof value === 'number') return int(3) === 0 ? `${value}${Number.isInteger(value) ? '.0' : '0'}` : String(value);
  if (Array.isArray(value)) return `[${space()}${value.map((item) => writeJson(item, int)).join(`,${space()}`)}]`;
  if (value && typeof value === 'object') {
    const members = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}${space()}:${space()}${writeJson(item, int)}`);
    return `{${members.join(`,${space()}`)}}`;
  }
  return JSON.stringify(value);
}
