/**
 * An upsert as one MERGE from a VALUES list, for warehouses with no INSERT … ON CONFLICT
 * (Snowflake, Databricks). `casts` types the values whose parameters arrive as text.
 */
export function mergeUpsert(quote: (name: string) => string, placeholder: (index: number) => string, casts: Record<string, string> = {}) {
  return (table: string, columns: string[], conflict: string[], rows: number): string => {
    const q = columns.map(quote);
    let n = 0;
    const values = Array.from({ length: rows }, () => `(${columns.map(() => placeholder(++n)).join(', ')})`).join(', ');
    const source = (c: string) => (casts[c] ? `CAST(s.${quote(c)} AS ${casts[c]})` : `s.${quote(c)}`);
    const on = conflict.map((c) => `t.${quote(c)} = s.${quote(c)}`).join(' AND ');
    const set = columns.filter((c) => !conflict.includes(c)).map((c) => `${quote(c)} = ${source(c)}`);
    return `MERGE INTO ${table} AS t USING (SELECT * FROM (VALUES ${values}) AS v (${q.join(', ')})) AS s ON ${on}
            WHEN MATCHED THEN UPDATE SET ${set.join(', ')}
            WHEN NOT MATCHED THEN INSERT (${q.join(', ')}) VALUES (${columns.map(source).join(', ')})`;
  };
}
