import { createTableStatement, type ColumnPlan, type TableRef } from '../sql-batch.ts';
import { quoteIdentifier } from '../../sql-identifier.ts';

/**
 * The statements the Postgres destination sends. Identifiers are always quoted (a column may
 * be called `a "b"; c`), values always travel as parameters ($1 …), never in the SQL text.
 */

/** Postgres counts bind parameters in 16 bits. */
export const MAX_PARAMS = 65_535;
/** Rows per statement: a 5,000-row VALUES list took longer to send than five of 1,000 (measured locally). */
export const MAX_ROWS = 1_000;
/** The VALUES column carrying each change's key back through RETURNING. */
export const KEY_ALIAS = '__lastmile_key';

export const quoteIdent = quoteIdentifier;

export function qualifiedName(table: TableRef): string {
  return table.schema ? `${quoteIdent(table.schema)}.${quoteIdent(table.table)}` : quoteIdent(table.table);
}

/** `($1, $2), ($3, $4)` for rowCount rows of width columns, each placeholder optionally cast. */
function valuesList(rowCount: number, casts: (string | undefined)[]): string {
  const rows: string[] = [];
  let n = 0;
  for (let r = 0; r < rowCount; r++) {
    rows.push(`(${casts.map((cast) => `$${++n}${cast ? `::${cast}` : ''}`).join(', ')})`);
  }
  return rows.join(', ');
}

/** Multi-row INSERT; with `conflict`, an upsert on the match columns. */
export function insertSql(
  table: TableRef,
  columns: string[],
  rowCount: number,
  conflict?: { match: string[] },
): string {
  let sql = `INSERT INTO ${qualifiedName(table)} (${columns.map(quoteIdent).join(', ')}) VALUES ${valuesList(rowCount, columns.map(() => undefined))}`;
  if (conflict) {
    const updates = columns.filter((c) => !conflict.match.includes(c));
    sql += ` ON CONFLICT (${conflict.match.map(quoteIdent).join(', ')}) DO ` +
      (updates.length ? `UPDATE SET ${updates.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}` : 'NOTHING');
  }
  return sql;
}

/**
 * One UPDATE for many rows: the new values ride in a VALUES list (cast to each column's type,
 * since VALUES outside an INSERT has none), joined on the match columns. RETURNING names the
 * keys that found their row; the others matched nothing.
 */
export function updateSql(
  table: TableRef,
  setColumns: string[],
  matchColumns: string[],
  rowCount: number,
  typeOf: (column: string) => string,
): string {
  const columns = [...matchColumns, ...setColumns];
  const target = quoteIdent('__lastmile_target');
  const source = quoteIdent('__lastmile_values');
  const sets = setColumns.length
    ? setColumns.map((c) => `${quoteIdent(c)} = ${source}.${quoteIdent(c)}`)
    : [`${quoteIdent(matchColumns[0]!)} = ${target}.${quoteIdent(matchColumns[0]!)}`];
  return `UPDATE ${qualifiedName(table)} AS ${target} SET ${sets.join(', ')} ` +
    `FROM (VALUES ${valuesList(rowCount, ['text', ...columns.map(typeOf)])}) ` +
    `AS ${source} (${[KEY_ALIAS, ...columns].map(quoteIdent).join(', ')}) ` +
    `WHERE ${joinCondition(matchColumns, target, source)} RETURNING ${source}.${quoteIdent(KEY_ALIAS)}`;
}

/** One DELETE for many rows, joined on the match columns like updateSql. */
export function deleteSql(table: TableRef, matchColumns: string[], rowCount: number, typeOf: (column: string) => string): string {
  const target = quoteIdent('__lastmile_target');
  const source = quoteIdent('__lastmile_values');
  return `DELETE FROM ${qualifiedName(table)} AS ${target} ` +
    `USING (VALUES ${valuesList(rowCount, matchColumns.map(typeOf))}) AS ${source} (${matchColumns.map(quoteIdent).join(', ')}) ` +
    `WHERE ${joinCondition(matchColumns, target, source)}`;
}

function joinCondition(matchColumns: string[], target: string, source: string): string {
  return matchColumns.map((c) => `${target}.${quoteIdent(c)} = ${source}.${quoteIdent(c)}`).join(' AND ');
}

export function copySql(table: TableRef, columns: string[]): string {
  return `COPY ${qualifiedName(table)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN WITH (FORMAT csv)`;
}

export function createTableSql(table: TableRef, columns: ColumnPlan[]): string {
  return createTableStatement({ quoteIdent, qualifiedName, columnType }, table, columns);
}

function columnType(column: ColumnPlan): string {
  switch (column.type) {
    case 'boolean': return 'boolean';
    case 'integer': return 'integer';
    case 'bigint': return 'bigint';
    case 'double': return 'double precision';
    case 'decimal': return column.precision ? `numeric(${column.precision}, ${column.scale ?? 0})` : 'numeric';
    case 'date': return 'date';
    case 'time': return 'time';
    case 'timestamp': return 'timestamp';
    case 'timestamptz': return 'timestamptz';
    case 'json': return 'jsonb';
    case 'blob': return 'bytea';
    case 'varchar': return column.maxLength ? `varchar(${column.maxLength})` : 'text';
  }
}

/**
 * The table's columns as describe() and the casts need them: information_schema for what
 * users read about, pg_attribute for the type to cast to. The cast leaves out the size
 * (`character varying`, not `varchar(10)`): an explicit cast to varchar(10) would cut a long
 * value silently, where storing it into the column raises 22001 as it should.
 */
export const COLUMNS_SQL = `
SELECT c.column_name, c.data_type, c.character_maximum_length, c.numeric_precision, c.numeric_scale,
       c.is_nullable, c.column_default, c.is_identity, c.is_generated,
       format_type(a.atttypid, NULL) AS sql_type,
       (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = a.atttypid) AS enum_values
FROM information_schema.columns c
JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
WHERE c.table_schema = COALESCE($1, current_schema()) AND c.table_name = $2
ORDER BY c.ordinal_position`;
