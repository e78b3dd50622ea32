import type { Encode } from '../fake-warehouse-engine.ts';

/**
 * How the fake presents a DuckDB column as Snowflake does in `resultSetMetaData.rowType`, and
 * the SQL that writes its values the way the SQL API's jsonv2 format does (every value a string):
 * FIXED as decimal text, REAL as float text, BOOLEAN "true"/"false", DATE as days since the
 * epoch, TIME and TIMESTAMP_* as seconds with 9 decimals (TIMESTAMP_TZ adds " <minutes + 1440>"),
 * VARIANT/OBJECT/ARRAY as JSON text, BINARY as hex.
 */
export interface FakeRowType {
  name: string;
  database: string;
  schema: string;
  table: string;
  type: string;
  nullable: boolean;
  precision: number | null;
  scale: number | null;
  length: number | null;
  byteLength: number | null;
  collation: null;
}

/** Seconds since the epoch (or midnight) with 9 decimals, from microseconds: written in SQL by the fake. */
const seconds = (micros: string) =>
  `(CASE WHEN ${micros} < 0 THEN '-' ELSE '' END || (abs(${micros}) // 1000000)::VARCHAR || '.' || lpad((abs(${micros}) % 1000000)::VARCHAR, 6, '0') || '000')`;

export function snowflakeType(duckdbType: string, tzOffsetMinutes: number | undefined): { type: string; precision?: number; scale?: number; length?: number } {
  const t = duckdbType.toUpperCase();
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(t);
  if (decimal) return { type: 'FIXED', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  if (/^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT))$/.test(t)) return { type: 'FIXED', precision: 38, scale: 0 };
  if (t === 'DOUBLE' || t === 'FLOAT') return { type: 'REAL' };
  if (t === 'BOOLEAN') return { type: 'BOOLEAN' };
  if (t === 'DATE') return { type: 'DATE' };
  if (t === 'TIME') return { type: 'TIME', scale: 9 };
  if (t === 'TIMESTAMP') return { type: 'TIMESTAMP_NTZ', scale: 9 };
  if (t === 'TIMESTAMP WITH TIME ZONE') return { type: tzOffsetMinutes === undefined ? 'TIMESTAMP_LTZ' : 'TIMESTAMP_TZ', scale: 9 };
  if (t === 'JSON') return { type: 'VARIANT' };
  if (t.endsWith(']')) return { type: 'ARRAY' };
  if (t.startsWith('STRUCT') || t.startsWith('MAP')) return { type: 'OBJECT' };
  if (t === 'BLOB') return { type: 'BINARY', length: 8_388_608 };
  return { type: 'TEXT', length: 16_777_216 };
}

export function snowflakeEncoder(tzOffsetMinutes: number | undefined): Encode {
  return (duckdbType, c) => {
    switch (snowflakeType(duckdbType, tzOffsetMinutes).type) {
      case 'DATE': return `(${c} - DATE '1970-01-01')::VARCHAR`;
      case 'TIME': return seconds(`epoch_us(DATE '1970-01-01' + ${c})`);
      case 'TIMESTAMP_NTZ':
      case 'TIMESTAMP_LTZ': return seconds(`epoch_us(${c})`);
      case 'TIMESTAMP_TZ': return `${seconds(`epoch_us(${c})`)} || ' ${tzOffsetMinutes! + 1440}'`;
      case 'ARRAY':
      case 'OBJECT': return `to_json(${c})::VARCHAR`;
      case 'BINARY': return `hex(${c})`;
      default: return `${c}::VARCHAR`;
    }
  };
}

export function rowTypeOf(name: string, duckdbType: string, tzOffsetMinutes: number | undefined): FakeRowType {
  const { type, precision, scale, length } = snowflakeType(duckdbType, tzOffsetMinutes);
  return {
    name, database: 'LASTMILE_FAKE', schema: 'PUBLIC', table: '', type, nullable: true,
    precision: precision ?? null, scale: scale ?? null, length: length ?? null, byteLength: length ? length * 4 : null, collation: null,
  };
}
