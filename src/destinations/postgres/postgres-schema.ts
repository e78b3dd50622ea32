import type { FieldSpec, FieldType } from '../destination.ts';

/** One column of the target table, as information_schema and pg_attribute describe it. */
export interface PgColumn {
  name: string;
  dataType: string;
  /** Type for casts, without size: `character varying`, `text[]`, `"my enum"`. */
  sqlType: string;
  maxLength?: number;
  precision?: number;
  scale?: number;
  nullable: boolean;
  hasDefault: boolean;
  enumValues?: string[];
  /** Values go in as JSON text. */
  json: boolean;
}

export interface ColumnRow {
  column_name: string;
  data_type: string;
  character_maximum_length: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
  is_identity: 'YES' | 'NO';
  is_generated: string;
  sql_type: string;
  enum_values: string[] | null;
}

export function toColumn(row: ColumnRow): PgColumn {
  return {
    name: row.column_name,
    dataType: row.data_type,
    sqlType: row.sql_type,
    maxLength: row.character_maximum_length ?? undefined,
    precision: row.data_type === 'numeric' ? row.numeric_precision ?? undefined : undefined,
    scale: row.data_type === 'numeric' ? row.numeric_scale ?? undefined : undefined,
    nullable: row.is_nullable === 'YES',
    hasDefault: row.column_default !== null || row.is_identity === 'YES' || row.is_generated !== 'NEVER',
    enumValues: row.enum_values ?? undefined,
    json: row.data_type === 'json' || row.data_type === 'jsonb',
  };
}

const FIELD_TYPE_OF: Record<string, FieldType> = {
  smallint: 'integer',
  integer: 'integer',
  bigint: 'integer',
  numeric: 'number',
  real: 'number',
  'double precision': 'number',
  boolean: 'boolean',
  date: 'date',
  'timestamp without time zone': 'datetime',
  'timestamp with time zone': 'datetime',
  json: 'json',
  jsonb: 'json',
  ARRAY: 'json',
};

/** What the engine needs to coerce and check a value before it is sent. */
export function toFieldSpec(column: PgColumn): FieldSpec {
  const spec: FieldSpec = {
    name: column.name,
    type: column.enumValues ? 'enum' : FIELD_TYPE_OF[column.dataType] ?? 'string',
  };
  if (column.maxLength !== undefined) spec.maxLength = column.maxLength;
  if (!column.nullable && !column.hasDefault) spec.required = true;
  if (column.enumValues) spec.options = column.enumValues;
  if (column.precision !== undefined) spec.precision = column.precision;
  if (column.scale !== undefined) spec.scale = column.scale;
  return spec;
}
