import type { Column, Source, Value } from '../../sources/source.ts';

/**
 * What a diff that runs inside a warehouse needs of it: statements on its own connection, and
 * the SQL of its dialect. Sources that run SQL on a server (Postgres, MySQL; later Snowflake,
 * BigQuery) hand one out; rows that must keep the canonical value form are still read through
 * `Source.read`, so every dialect gives the same values the workspace does.
 */
export interface WarehouseSession {
  readonly dialect: WarehouseDialect;
  /** Runs one statement; rows as the driver gives them (counts as text or numbers: use Number()). */
  run(sql: string, params?: Value[]): Promise<Record<string, unknown>[]>;
  /** Runs `work` in one transaction: all of it commits, or none. */
  transaction<T>(work: (run: WarehouseSession['run']) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What `diff: engine` needs of a database: recipe v1 keys and fingerprints in its SQL. */
export interface FingerprintSql {
  readonly name: string;
  quote(identifier: string): string;
  placeholder(index: number): string;
  /** Recipe v1 fingerprint of the current row's `columns` (recipe-v1.md), a decimal(20,0). */
  fingerprint(signature: string, columns: Column[]): string;
  /** `expr` as text (a fingerprint as its decimal digits). */
  asText(expr: string): string;
  /** Recipe v1 key of the current row (text; NULL when a part is null). */
  key(columns: Column[]): string;
}

/**
 * The SQL that differs between warehouses. Everything else the diff writes is plain SQL every
 * warehouse takes (CREATE TABLE … AS SELECT, LEFT JOIN, NOT EXISTS, GROUP BY … HAVING).
 */
export interface WarehouseDialect extends FingerprintSql {
  /** A string literal, whatever the session's settings say of backslashes. */
  literal(text: string): string;
  /** Column types of the state table. */
  readonly types: { name: string; key: string; fp: string; text: string };
  createSchema(schema: string): string;
  /** Whether the state table declares its primary key (Databricks takes one only in Unity Catalog, and enforces none). */
  readonly declaresPrimaryKey?: false;
  /** A scratch table from a SELECT (no durability needed: a crashed diff's is dropped next time). */
  createScratch(table: string, select: string): string;
  /** Statements that make `column` of a scratch table quick to look up, if the engine needs them. */
  indexScratch(table: string, column: string): string[];
  /**
   * Inserts rows of `columns`, replacing the row of the same `conflict` columns (`rows` rows of
   * placeholders). Absent where the warehouse has no single statement for it (Redshift): the
   * row state then deletes the keys and inserts, in one transaction.
   */
  upsert?(table: string, columns: string[], conflict: string[], rows: number): string;
}

/** A source whose database computes keys and fingerprints itself (`diff: engine`). */
export interface FingerprintSource extends Source {
  readonly fingerprintSql: FingerprintSql;
}

/** A source whose diff can run inside its server (`diff: warehouse`), state and all. */
export interface WarehouseSource extends FingerprintSource {
  openSession(): WarehouseSession;
}

export function isFingerprintSource(source: Source): source is FingerprintSource {
  return (source as Partial<FingerprintSource>).fingerprintSql !== undefined;
}

export function isWarehouseSource(source: Source): source is WarehouseSource {
  return isFingerprintSource(source) && typeof (source as Partial<WarehouseSource>).openSession === 'function';
}

/** `$1, $2` or `?, ?` for `count` values starting at `from`. */
export function placeholders(dialect: FingerprintSql, count: number, from = 1): string {
  return Array.from({ length: count }, (_, i) => dialect.placeholder(from + i)).join(', ');
}
