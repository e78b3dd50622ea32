import { z } from 'zod';
import type { SyncConfig } from '../config/project.ts';
import type { ColumnType, Value } from '../sources/source.ts';
import { FIELD_TYPES, type Change, type FieldType, type Operation, type RecordResult } from './destination.ts';

/**
 * What SQL destinations (postgres/, mysql/) share: the table a sync writes, the columns it
 * declares, and how a batch of changes is cut into statements. Dialects only write SQL.
 */

export interface TableRef {
  schema?: string;
  table: string;
}

/** `table: crm.contacts`, `table: contacts` or `table: { schema: crm, table: "odd.name" }`. */
export const tableOption = z.union([
  z.string().min(1).transform((text): TableRef => {
    const dot = text.indexOf('.');
    return dot > 0 ? { schema: text.slice(0, dot), table: text.slice(dot + 1) } : { table: text };
  }),
  z.object({ schema: z.string().min(1).optional(), table: z.string().min(1) }),
]);

/** A column declared on the sync for createTable: a FieldSpec type, or the type with its size. */
const columnDeclaration = z.union([
  z.enum(FIELD_TYPES),
  z.object({
    type: z.enum(FIELD_TYPES),
    maxLength: z.number().int().positive().optional(),
    precision: z.number().int().positive().optional(),
    scale: z.number().int().nonnegative().optional(),
  }),
]);
export type ColumnDeclaration = z.infer<typeof columnDeclaration>;

/** Sync options every SQL destination accepts. */
export const sqlSyncOptions = {
  table: tableOption,
  /** Create the table from the mapping when it does not exist (match fields become the primary key). */
  createTable: z.boolean().default(false),
  /** Column types for createTable; fields left out take the type of their values in the first batch. */
  columns: z.record(z.string(), columnDeclaration).optional(),
};
export type SqlSyncOptions = z.output<z.ZodObject<typeof sqlSyncOptions>>;

/** A column as createTable makes it. */
export interface ColumnPlan {
  name: string;
  type: ColumnType;
  maxLength?: number;
  precision?: number;
  scale?: number;
  primaryKey: boolean;
}

/** What a SQL engine spells its own way: identifiers, table names, column types. */
export interface SqlDialect {
  quoteIdent(name: string): string;
  qualifiedName(table: TableRef): string;
  columnType(column: ColumnPlan): string;
}

/** CREATE TABLE IF NOT EXISTS from the planned columns, the match columns as the primary key. */
export function createTableStatement(dialect: SqlDialect, table: TableRef, columns: ColumnPlan[]): string {
  const keys = columns.filter((c) => c.primaryKey).map((c) => dialect.quoteIdent(c.name));
  const definitions = columns.map((c) => `${dialect.quoteIdent(c.name)} ${dialect.columnType(c)}${c.primaryKey ? ' NOT NULL' : ''}`);
  if (keys.length) definitions.push(`PRIMARY KEY (${keys.join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${dialect.qualifiedName(table)} (${definitions.join(', ')})`;
}

/** The destination fields a sync writes: match fields first, then mapped ones. */
export interface SyncFields {
  match: string[];
  all: string[];
}

export function syncFields(sync: SyncConfig): SyncFields {
  const match = [...new Set(Object.values(sync.match))];
  return { match, all: [...new Set([...match, ...Object.keys(sync.mapping)])] };
}

/** Changes sent by one kind of statement: same operation, same columns. */
export interface StatementGroup {
  op: Operation;
  columns: string[];
  rows: StatementRow[];
}

export interface StatementRow {
  key: string;
  values: Record<string, Value>;
}

/**
 * Cuts a batch into statement groups, in the batch's order, and rejects up front the changes
 * whose match value is missing: no statement can find their row.
 */
export function groupChanges(batch: Change[], matchColumns: string[]): { groups: StatementGroup[]; rejected: RecordResult[] } {
  const groups = new Map<string, StatementGroup>();
  const rejected: RecordResult[] = [];
  for (const change of batch) {
    const values: Record<string, Value> = {};
    if (change.op !== 'delete') {
      for (const [name, value] of Object.entries(change.fields)) if (value !== undefined) values[name] = value;
    }
    for (const name of matchColumns) {
      const value = change.match[name] ?? values[name];
      if (value !== undefined) values[name] = value;
    }
    const absent = matchColumns.filter((name) => values[name] === null || values[name] === undefined);
    if (absent.length && change.op !== 'insert') {
      rejected.push({
        key: change.key,
        outcome: 'rejected',
        rejection: {
          category: 'missing_identifier',
          field: absent.join(', '),
          message: `match field ${absent.join(', ')} is empty: the row cannot be found in the table`,
          retryable: false,
        },
      });
      continue;
    }
    const columns = change.op === 'delete' ? matchColumns : Object.keys(values).sort();
    const id = `${change.op}\u0000${columns.join('\u0000')}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { op: change.op, columns, rows: [] }));
    group.rows.push({ key: change.key, values });
  }
  return { groups: [...groups.values()], rejected };
}

/**
 * Splits a group's rows into statements that stay under the driver's parameter limit (and a
 * byte budget), and never carry one match value twice: Postgres refuses ON CONFLICT on a row
 * twice in one statement, and an UPDATE … FROM could report only one of the two.
 */
export function chunkRows<T extends { values: Record<string, Value> }>(
  rows: T[],
  matchColumns: string[],
  limits: { paramsPerRow: number; maxParams: number; maxBytes?: number; maxRows?: number },
): T[][] {
  const byParams = Math.max(1, Math.floor(limits.maxParams / Math.max(1, limits.paramsPerRow)));
  const maxRows = Math.min(byParams, limits.maxRows ?? Infinity);
  const chunks: T[][] = [];
  let current: T[] = [];
  let seen = new Set<string>();
  let bytes = 0;
  for (const row of rows) {
    const id = JSON.stringify(matchColumns.map((name) => valueText(row.values[name])));
    const size = limits.maxBytes ? approximateBytes(row.values) : 0;
    if (current.length && (current.length >= maxRows || seen.has(id) || (limits.maxBytes && bytes + size > limits.maxBytes))) {
      chunks.push(current);
      current = [];
      seen = new Set();
      bytes = 0;
    }
    current.push(row);
    seen.add(id);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * Columns for createTable: a type declared on the sync wins; otherwise the type of the values
 * the first batch carries (text when they disagree or are all null).
 */
export function planColumns(
  fields: SyncFields,
  batch: Change[],
  declared: Record<string, ColumnDeclaration> = {},
): ColumnPlan[] {
  return fields.all.map((name) => {
    const primaryKey = fields.match.includes(name);
    const declaration = declared[name];
    if (declaration) {
      const spec = typeof declaration === 'string' ? { type: declaration } : declaration;
      return { name, primaryKey, ...spec, type: columnTypeOf(spec.type, spec.precision) };
    }
    let type: ColumnType | undefined;
    for (const change of batch) {
      const value = change.fields[name] ?? change.match[name];
      if (value === null || value === undefined) continue;
      type = type ? widen(type, valueType(value)) : valueType(value);
    }
    return { name, primaryKey, type: type ?? 'varchar' };
  });
}

function columnTypeOf(type: FieldType, precision?: number): ColumnType {
  switch (type) {
    case 'integer': return 'bigint';
    case 'number': return precision ? 'decimal' : 'double';
    case 'boolean': return 'boolean';
    case 'date': return 'date';
    case 'datetime': return 'timestamptz';
    case 'json': return 'json';
    default: return 'varchar';
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/;

function valueType(value: Value): ColumnType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'bigint') return 'bigint';
  if (typeof value === 'number') return Number.isInteger(value) ? 'bigint' : 'double';
  if (value instanceof Uint8Array) return 'blob';
  if (typeof value === 'object') return 'json';
  // Digits in a string stay text (zip codes, phone numbers): declare `columns` for decimals.
  if (DATE.test(value)) return 'date';
  if (TIMESTAMP.test(value)) return 'timestamp';
  if (TIMESTAMPTZ.test(value)) return 'timestamptz';
  return 'varchar';
}

function widen(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  const pair = new Set([a, b]);
  if (pair.has('bigint') && pair.has('double')) return 'double';
  if (pair.has('date') && pair.has('timestamp')) return 'timestamp';
  if ((pair.has('date') || pair.has('timestamp')) && pair.has('timestamptz')) return 'timestamptz';
  return 'varchar';
}

/** Match values compared as text, so 42 and 42n count as the same row. */
function valueText(value: Value | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object' && !(value instanceof Uint8Array)) return JSON.stringify(value, bigintText);
  return String(value);
}

function approximateBytes(values: Record<string, Value>): number {
  let bytes = 0;
  for (const value of Object.values(values)) {
    if (typeof value === 'string') bytes += value.length * 3 + 4;
    else if (value instanceof Uint8Array) bytes += value.length * 2 + 4;
    else if (value !== null && typeof value === 'object') bytes += JSON.stringify(value, bigintText).length * 3 + 4;
    else bytes += 24;
  }
  return bytes;
}

/** JSON.stringify replacer: bigints become their digits (JSON has no 64-bit integers). */
export function bigintText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
