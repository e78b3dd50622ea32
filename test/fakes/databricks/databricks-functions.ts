/**
 * Databricks SQL functions the fake maps onto DuckDB (DIALECT.md): those recipe v1 in
 * Databricks SQL uses that DuckDB lacks, as macros of the same name covering only the
 * arguments Lastmile passes.
 */
export const DATABRICKS_MACROS = `
  -- conv(hex, 16, 10): base 16 to base 10 only, as a STRING like Databricks answers.
  CREATE MACRO conv(s, from_base, to_base) AS CASE WHEN from_base = 16 AND to_base = 10 THEN CAST(CAST('0x' || s AS UBIGINT) AS VARCHAR) END;
  -- unix_date(date): days since 1970-01-01.
  CREATE MACRO unix_date(d) AS CAST(d - DATE '1970-01-01' AS BIGINT);
  -- unix_micros(timestamp): microseconds since 1970-01-01 00:00 UTC.
  CREATE MACRO unix_micros(t) AS epoch_us(t);
`;
