/**
 * Snowflake functions the fake maps onto DuckDB (DIALECT.md, "Functions the fake maps"): the
 * SQL Lastmile writes for recipe v1 and the warehouse diff uses them as Snowflake documents
 * them. Functions become DuckDB macros of the same name; the few forms a macro cannot take
 * (a date part written as a keyword, a variadic function, a table kind) are rewritten as text.
 * Each mapping covers the arguments Lastmile passes, not everything Snowflake accepts.
 */
export const SNOWFLAKE_MACROS = `
  -- TO_VARCHAR(x) and TO_VARCHAR(date or timestamp, format) with the format elements YYYY MM DD HH24 MI SS FF6 and "…" literals.
  CREATE MACRO to_varchar(x) AS CAST(x AS VARCHAR),
    (x, f) AS strftime(x, replace(replace(replace(replace(replace(replace(replace(replace(replace(f,
      '"T"', 'T'), '"Z"', 'Z'), 'YYYY', '%Y'), 'MM', '%m'), 'DD', '%d'), 'HH24', '%H'), 'MI', '%M'), 'SS', '%S'), '.FF6', '.%f'));
  -- HEX_ENCODE(binary[, case]): case 0 writes lowercase digits, 1 (the default) uppercase.
  CREATE MACRO hex_encode(b) AS hex(b), (b, c) AS CASE WHEN c = 0 THEN lower(hex(b)) ELSE hex(b) END;
  -- TO_BINARY(text, 'HEX').
  CREATE MACRO to_binary(s, f) AS unhex(s);
  -- BITXOR of two BINARY values of 8 bytes (the only lengths Lastmile passes).
  CREATE MACRO bitxor(a, b) AS unhex(lpad(to_hex(xor(CAST('0x' || hex(a) AS UBIGINT), CAST('0x' || hex(b) AS UBIGINT))), 16, '0'));
  -- TO_NUMBER(text, 'XXXX…'): hexadecimal formats of up to 16 digits.
  CREATE MACRO to_number(s, f) AS CAST(CAST('0x' || s AS UBIGINT) AS DECIMAL(20, 0));
  -- CONVERT_TIMEZONE(target, instant): the wall clock in the target zone.
  CREATE MACRO convert_timezone(z, x) AS timezone(z, x);
  -- TO_JSON answers VARCHAR in Snowflake, JSON in DuckDB.
  CREATE MACRO sf_to_json(x) AS CAST(to_json(x) AS VARCHAR);
`;

const REWRITES: [RegExp, string][] = [
  [/\bDATE_PART\(EPOCH_MICROSECOND,\s*/g, 'epoch_us('],
  [/\bTIMEDIFF\(MICROSECOND,\s*/g, "date_diff('microsecond', "],
  [/\bARRAY_CONSTRUCT\(/g, 'list_value('],
  [/\bTO_JSON\(/g, 'sf_to_json('],
  [/\bCREATE TRANSIENT TABLE\b/g, 'CREATE TABLE'],
];

/** Snowflake SQL as DuckDB runs it (the macros above installed). */
export function snowflakeToDuckdb(sql: string): string {
  return REWRITES.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), sql);
}
