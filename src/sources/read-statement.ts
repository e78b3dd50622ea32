import type { Row, Source } from './source.ts';

/**
 * A statement run through a source's own read, every row collected: for warehouses whose API
 * answers each statement as a result (Snowflake, Databricks), so rows keep the canonical value form.
 */
export function readStatement(source: Source) {
  const signal = new AbortController().signal;
  return async (sql: string, params: Row[string][] = []): Promise<Row[]> => {
    const rows: Row[] = [];
    for await (const chunk of source.read(sql, { chunkSize: 10_000, signal, params })) rows.push(...chunk.rows);
    return rows;
  };
}
