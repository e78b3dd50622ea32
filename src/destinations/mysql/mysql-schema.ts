import type { FieldSpec, FieldType } from '../destination.ts';

/** One column of the target table, from information_schema.columns. */
export interface MyColumn {
  name: string;
  dataType: string;
  columnType: string;
  maxLength?: number;
  precision?: number;
  scale?: number;
  nullable: boolean;
  hasDefault: boolean;
  json: boolean;
}

export interface ColumnRow {
  name: string;
  data_type: string;
  column_type: string;
  max_length: number | string | null;
  num_precision: number | string | null;
  num_scale: number | string | null;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
  extra: string;
}

const CHAR_TYPES = new Set(['char', 'varchar']);

export function toColumn(row: ColumnRow, jsonColumns: Set<string>): MyColumn {
  const type = row.data_type.toLowerCase();
  const decimal = type === 'decimal';
  return {
    name: row.name,
    dataType: type,
    columnType: row.column_type,
    maxLength: CHAR_TYPES.has(type) && row.max_length !== null ? Number(row.max_length) : undefined,
    precision: decimal && row.num_precision !== null ? Number(row.num_precision) : undefined,
    scale: decimal && row.num_scale !== null ? Number(row.num_scale) : undefined,
    nullable: row.is_nullable === 'YES',
    hasDefault: row.column_default !== null || /auto_increment|generated/i.test(row.extra),
    json: type === 'json' || jsonColumns.has(row.name),
  };
}

const FIELD_TYPE_OF: Record<string, FieldType> = {
  tinyint: 'integer', smallint: 'integer', mediumint: 'integer', int: 'integer', bigint: 'integer',
  decimal: 'number', float: 'number', double: 'number',
  date: 'date', datetime: 'datetime', timestamp: 'datetime',
  json: 'json',
};

/** What the engine needs to coerce and check a value before it is sent. */
export function toFieldSpec(column: MyColumn): FieldSpec {
  const enumOptions = column.dataType === 'enum' ? parseEnum(column.columnType) : undefined;
  const boolean = /^(tinyint|bit)\(1\)/i.test(column.columnType);
  const spec: FieldSpec = {
    name: column.name,
    type: boolean ? 'boolean' : column.json ? 'json' : enumOptions ? 'enum' : FIELD_TYPE_OF[column.dataType] ?? 'string',
  };
  if (column.maxLength !== undefined) spec.maxLength = column.maxLength;
  if (!column.nullable && !column.hasDefault) spec.required = true;
  if (enumOptions) spec.options = enumOptions;
  if (column.precision !== undefined) spec.precision = column.precision;
  if (column.scale !== undefined) spec.scale = column.scale;
  return spec;
}

/** `enum('a','it''s')` -> ['a', "it's"] */
function parseEnum(columnType: string): string[] {
  return [...columnType.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replaceAll("''", "'"));
}

export function isDateTime(column: MyColumn | undefined): boolean {
  return column?.dataType === 'datetime' || column?.dataType === 'timestamp';
}
