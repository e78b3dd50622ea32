import type { CsvColumn } from './duckdb-csv-load.ts';

/**
 * How DuckDB reads the date and time texts servers export. DuckDB's own parser would take
 * Postgres' `0044-03-15 BC` for the year 44 AD, so such texts are rewritten to DuckDB's
 * `(BC)` form first. Timestamps with a zone arrive as UTC wall-clock texts.
 */
type CsvRead = Omit<CsvColumn, 'column'>;

const bc = (field: string, rewritten: string, type: string) =>
  `CASE WHEN ends_with(${field}, ' BC') THEN CAST(${rewritten} AS ${type}) ELSE CAST(${field} AS ${type}) END`;

export const dateSql = (field: string) => bc(field, `replace(${field}, ' BC', ' (BC)')`, 'DATE');

export const timestampSql = (field: string) => bc(field, `regexp_replace(${field}, '^(\\S+) (.*) BC$', '\\1 (BC) \\2')`, 'TIMESTAMP');

/** A UTC wall-clock TIMESTAMP as the same instant (make_timestamptz ignores the TimeZone setting; infinities cast as they are). */
export const utcInstantSql = (timestamp: string) => `coalesce(make_timestamptz(epoch_us(${timestamp})), CAST(${timestamp} AS TIMESTAMPTZ))`;

export const csvDate: CsvRead = { read: 'VARCHAR', convert: dateSql };
export const csvTimestamp: CsvRead = { read: 'VARCHAR', convert: timestampSql };
export const csvTimestamptz: CsvRead = { read: 'VARCHAR', convert: (field) => utcInstantSql(timestampSql(field)) };
