/**
 * ClickHouse functions the fake maps onto DuckDB (DIALECT.md): those recipe v1 in ClickHouse SQL
 * uses that DuckDB lacks or names otherwise, as macros covering only the arguments Lastmile passes.
 */
export const CLICKHOUSE_MACROS = `
  CREATE MACRO tostring(x) AS CAST(x AS VARCHAR);
  CREATE MACRO replaceall(s, a, b) AS replace(s, a, b);
  CREATE MACRO replaceregexpone(s, p, r) AS regexp_replace(s, p, r);
  CREATE MACRO touint64(x) AS CAST(x AS UBIGINT);
  CREATE MACRO bitxor(a, b) AS xor(a, b);
  -- MD5 answers 32 hex digits in DuckDB, 16 bytes in ClickHouse: reinterpretAsUInt64 reads the
  -- hex digits, so only reinterpretAsUInt64(MD5(x)) means what it means in ClickHouse.
  CREATE MACRO reinterpretasuint64(h) AS CAST('0x' || substr(h, 15, 2) || substr(h, 13, 2) || substr(h, 11, 2) || substr(h, 9, 2)
    || substr(h, 7, 2) || substr(h, 5, 2) || substr(h, 3, 2) || substr(h, 1, 2) AS UBIGINT);
  -- Every DateTime is an instant: a zoneless DuckDB timestamp one in the server's zone.
  CREATE MACRO todatetime64(x, p) AS CAST(x AS TIMESTAMPTZ);
  CREATE MACRO tounixtimestamp64micro(x) AS epoch_us(x);
  -- formatDateTime(t, format, zone) with the elements %Y %m %d %H %i %S %f.
  CREATE MACRO formatdatetime(x, f, z) AS strftime(timezone(z, x), replace(f, '%i', '%M'));
`;

/** ClickHouse SQL as DuckDB runs it (the macros above installed): `char` is a type name in DuckDB. */
export function clickhouseToDuckdb(sql: string): string {
  return sql.replace(/\bchar\(/g, 'chr(');
}
