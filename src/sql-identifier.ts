/**
 * An identifier quoted the SQL standard's way, as DuckDB, Postgres and SQLite read it: in
 * double quotes, with a double quote inside doubled. Any name is safe, spaces and `;` included.
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `SELECT *` from a table named `prices` or `analytics.prices`, each part quoted with `quote`. */
export function selectFromTable(table: string, quote: (name: string) => string): string {
  return `SELECT * FROM ${table.split('.').map(quote).join('.')}`;
}
