import type { Source, Value } from '../source.ts';
import { readStatement } from '../read-statement.ts';
import type { WarehouseSession } from '../../diff/warehouse/warehouse-session.ts';
import { snowflakeDialect, snowflakeLiteral } from '../../diff/warehouse/snowflake-dialect.ts';

/** Runs one multi-statement request (the SQL API's only way to group statements: it keeps no session between requests). */
export type RunScript = (statements: string[]) => Promise<void>;

/**
 * Statements through the SQL API, for a diff that runs in Snowflake (warehouse-session.ts).
 * Rows come back through the source's own read, so they keep the canonical value form. A
 * transaction is one multi-statement request BEGIN … COMMIT: the API takes no bindings there,
 * so values are inlined as literals, and its statements answer no rows to `work`.
 */
export function snowflakeSession(source: Source, script: RunScript): WarehouseSession {
  return {
    dialect: snowflakeDialect,
    run: readStatement(source),
    async transaction(work) {
      const statements: string[] = [];
      const result = await work(async (sql, params = []) => {
        statements.push(inlined(sql, params));
        return [];
      });
      if (statements.length) await script(['BEGIN TRANSACTION', ...statements, 'COMMIT']);
      return result;
    },
    close: async () => undefined, // the source owns the client
  };
}

/** `sql` with each `?` outside a string literal or quoted name replaced by its value as a literal. */
export function inlined(sql: string, params: Value[]): string {
  let next = 0;
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (token) => (token === '?' ? literal(params[next++]) : token));
}

function literal(value: Value | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return snowflakeLiteral(typeof value === 'string' ? value : JSON.stringify(value));
}
