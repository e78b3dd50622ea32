import { createTableStatement, type ColumnPlan, type TableRef } from '../sql-batch.ts';

/**
 * The statements the MySQL/MariaDB destination sends. Identifiers are always backtick-quoted;
 * values arrive already escaped as SQL literals (`lit`), so no `?` in a column name can be
 * taken for a placeholder. The session runs without NO_BACKSLASH_ESCAPES (MysqlDestination.connect),
 * which is what the driver's escaping assumes.
 */

/** Bytes of literals per statement, well under max_allowed_packet (16 MiB by default on MariaDB). */
export const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;
/** Literals per statement: the same bound prepared statements have. */
export const MAX_VALUES = 65_535;

export type Literal = (column: string, row: number) => string;

export function quoteIdent(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

export function qualifiedName(table: TableRef): string {
  return table.schema ? `${quoteIdent(table.schema)}.${quoteIdent(table.table)}` : quoteIdent(table.table);
}

/**
 * Multi-row INSERT; with `upsert`, ON DUPLICATE KEY UPDATE. MySQL fires that clause on a clash
 * with any unique key of the table, not only the match columns: createTable makes the match
 * columns the primary key and adds no other.
 */
export function insertSql(table: TableRef, columns: string[], rowCount: number, lit: Literal, upsert?: { match: string[] }): string {
  const rows: string[] = [];
  for (let r = 0; r < rowCount; r++) rows.push(`(${columns.map((c) => lit(c, r)).join(', ')})`);
  let sql = `INSERT INTO ${qualifiedName(table)} (${columns.map(quoteIdent).join(', ')}) VALUES ${rows.join(', ')}`;
  if (upsert) {
    const updates = columns.filter((c) => !upsert.match.includes(c));
    // VALUES(col) is deprecated on MySQL 8.0.20+ but the only form MariaDB knows.
    const sets = updates.length
      ? updates.map((c) => `${quoteIdent(c)} = VALUES(${quoteIdent(c)})`)
      : [`${quoteIdent(upsert.match[0]!)} = ${quoteIdent(upsert.match[0]!)}`];
    sql += ` ON DUPLICATE KEY UPDATE ${sets.join(', ')}`;
  }
  return sql;
}

/**
 * One UPDATE per row, sent together as one multi-statement query: each answers its own
 * affected-rows count (rows matched, with CLIENT_FOUND_ROWS), so a row that matched nothing
 * is known exactly.
 */
export function updateSql(table: TableRef, setColumns: string[], matchColumns: string[], rowCount: number, lit: Literal): string {
  const statements: string[] = [];
  for (let r = 0; r < rowCount; r++) {
    const sets = setColumns.length
      ? setColumns.map((c) => `${quoteIdent(c)} = ${lit(c, r)}`)
      : [`${quoteIdent(matchColumns[0]!)} = ${quoteIdent(matchColumns[0]!)}`];
    statements.push(`UPDATE ${qualifiedName(table)} SET ${sets.join(', ')} WHERE ${matchColumns.map((c) => `${quoteIdent(c)} = ${lit(c, r)}`).join(' AND ')}`);
  }
  return statements.join(';\n');
}

export function deleteSql(table: TableRef, matchColumns: string[], rowCount: number, lit: Literal): string {
  const tuples: string[] = [];
  for (let r = 0; r < rowCount; r++) tuples.push(`(${matchColumns.map((c) => lit(c, r)).join(', ')})`);
  return `DELETE FROM ${qualifiedName(table)} WHERE (${matchColumns.map(quoteIdent).join(', ')}) IN (${tuples.join(', ')})`;
}

export function createTableSql(table: TableRef, columns: ColumnPlan[]): string {
  return createTableStatement({ quoteIdent, qualifiedName, columnType }, table, columns);
}

function columnType(column: ColumnPlan): string {
  switch (column.type) {
    case 'boolean': return 'BOOLEAN';
    case 'integer': return 'INT';
    case 'bigint': return 'BIGINT';
    case 'double': return 'DOUBLE';
    case 'decimal': return `DECIMAL(${column.precision ?? 65}, ${column.scale ?? (column.precision ? 0 : 30)})`;
    case 'date': return 'DATE';
    case 'time': return 'TIME(6)';
    case 'timestamp':
    case 'timestamptz': return 'DATETIME(6)'; // the session speaks UTC
    case 'json': return 'JSON';
    case 'blob': return 'LONGBLOB';
    case 'varchar':
      // A key must have a bounded length; text without one may be long.
      if (column.maxLength) return `VARCHAR(${column.maxLength})`;
      return column.primaryKey ? 'VARCHAR(255)' : 'LONGTEXT';
  }
}

/** Aliases keep the answer's keys lower-case on MySQL 8, which returns them upper-case. */
export const COLUMNS_SQL = `
SELECT column_name AS name, data_type AS data_type, column_type AS column_type,
       character_maximum_length AS max_length, numeric_precision AS num_precision, numeric_scale AS num_scale,
       is_nullable AS is_nullable, column_default AS column_default, extra AS extra
FROM information_schema.columns
WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?
ORDER BY ordinal_position`;

/** MariaDB stores JSON as LONGTEXT with a json_valid() check named after the column. */
export const JSON_CHECKS_SQL = `
SELECT constraint_name AS name FROM information_schema.check_constraints
WHERE constraint_schema = COALESCE(?, DATABASE()) AND table_name = ? AND check_clause LIKE 'json_valid(%'`;
