import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

/**
 * The SQL engine of the warehouse fakes (snowflake/, bigquery/): DuckDB in memory. A
 * statement's result lands in a temp table, its DuckDB column types are read, and each
 * column is written as text by an expression the fake picks per type (Snowflake and BigQuery
 * encode values their own way), so the fake's encoding never goes through Lastmile's code.
 */
export interface EngineColumn {
  name: string;
  /** DuckDB's type name: `DECIMAL(18,4)`, `TIMESTAMP WITH TIME ZONE`, `INTEGER[]`, `STRUCT(a INTEGER)`. */
  duckdbType: string;
}

export interface EngineResult {
  columns: EngineColumn[];
  rows: (string | null)[][];
}

/** The SQL expression writing column `quoted` of DuckDB type `type` as VARCHAR. */
export type Encode = (type: string, quoted: string) => string;

export class FakeWarehouseEngine {
  private instance?: DuckDBInstance;
  private connection?: DuckDBConnection;
  private queue: Promise<unknown> = Promise.resolve();
  private tables = 0;
  /** Statements run, setup included. */
  statementsRun = 0;

  constructor(private readonly timeZone = 'Asia/Kolkata') {}

  /** Runs setup SQL (CREATE TABLE, INSERT …) directly. */
  async run(sql: string): Promise<void> {
    await this.serial(async (connection) => { await connection.run(sql); });
  }

  /** Runs `sql` with positional parameters and answers its rows, each value encoded as text. */
  execute(sql: string, params: DuckDBValue[], encode: Encode): Promise<EngineResult> {
    return this.serial(async (connection) => {
      this.statementsRun++;
      // DDL and DML answer one status row, as warehouses do; only a query has a result to encode.
      if (!QUERY.test(sql)) {
        await connection.run(sql, params);
        return STATUS;
      }
      const table = `lastmile_fake_result_${++this.tables}`;
      // No parentheses around the SQL: a statement ending in `;` or a comment still parses.
      await connection.run(`CREATE TEMP TABLE ${table} AS ${sql}\n`, params);
      try {
        const described = (await connection.runAndReadAll(`DESCRIBE ${table}`)).getRowObjects();
        const columns = described.map((row) => ({ name: String(row.column_name), duckdbType: String(row.column_type) }));
        if (columns.length === 0) return { columns, rows: [] };
        const select = columns.map((c, i) => `${encode(c.duckdbType, quote(c.name))} AS c${i}`).join(', ');
        const reader = await connection.runAndReadAll(`SELECT ${select} FROM ${table}`);
        return { columns, rows: reader.getRows() as (string | null)[][] };
      } finally {
        await connection.run(`DROP TABLE ${table}`);
      }
    });
  }

  /** Runs several statements in order, without parameters; a failure rolls back the transaction it leaves open. */
  runScript(sql: string): Promise<EngineResult> {
    return this.serial(async (connection) => {
      this.statementsRun++;
      try {
        await connection.run(sql);
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => {});
        throw error;
      }
      return STATUS;
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {});
    this.connection?.closeSync();
    this.instance?.closeSync();
  }

  /** One statement at a time: the fake's requests share one DuckDB connection. */
  private serial<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => work(await this.connect()));
    this.queue = next.catch(() => {});
    return next;
  }

  private async connect(): Promise<DuckDBConnection> {
    if (!this.connection) {
      this.instance = await DuckDBInstance.create(':memory:');
      this.connection = await this.instance.connect();
      // A session away from UTC: instants must still come out right.
      await this.connection.run(`SET TimeZone = '${this.timeZone}'`);
    }
    return this.connection;
  }
}

/** A query, after any leading comments: everything else is DDL or DML. */
const QUERY = /^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*(\(|SELECT\b|WITH\b|VALUES\b|FROM\b|DESCRIBE\b|SHOW\b)/i;

export function isQuery(sql: string): boolean {
  return QUERY.test(sql);
}
const STATUS: EngineResult = { columns: [{ name: 'status', duckdbType: 'VARCHAR' }], rows: [['Statement executed successfully.']] };

export function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
