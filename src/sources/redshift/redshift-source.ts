import pg from 'pg';
import { RunError } from '../../errors.ts';
import { PgServer, RAW_TEXT, textRow } from '../postgres/pg-server.ts';
import type { Column, ReadOptions, Row, RowChunk } from '../source.ts';
import { quoteIdentifier, selectFromTable } from '../../sql-identifier.ts';
import type { RedshiftSettings } from './redshift-type.ts';
import { redshiftColumn } from './redshift-values.ts';
import { inlineParams } from './redshift-sql.ts';
import { postgresSession } from '../postgres/postgres-session.ts';
import { redshiftDialect } from '../../diff/warehouse/redshift-dialect.ts';
import type { WarehouseSession, WarehouseSource } from '../../diff/warehouse/warehouse-session.ts';

const CURSOR = 'lastmile_read';

/**
 * An Amazon Redshift cluster or workgroup, over the Postgres wire protocol with the Postgres
 * driver, in SQL Redshift documents: a read is `BEGIN; DECLARE … CURSOR FOR …; FETCH FORWARD n`
 * until the cursor is drained, then `CLOSE; END`. No COPY TO STDOUT (Redshift has none; its
 * UNLOAD writes to S3), so a run stages the rows `read()` gives.
 */
export class RedshiftSource implements WarehouseSource {
  readonly type = 'redshift';
  private readonly server: PgServer;

  constructor(readonly name: string, private readonly settings: RedshiftSettings) {
    this.server = new PgServer(name, settings, { product: 'Redshift', defaultPort: 5439, connectionString: (url) => url.replace(/^redshift:/, 'postgres:') });
  }

  check(signal: AbortSignal): Promise<void> {
    return this.server.check(signal);
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const { chunkSize, signal } = options;
    signal.throwIfAborted();
    const client = await this.connect();
    let released = false;
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      client.release(error);
    };
    // Aborting closes the connection (the pool drops it), which fails a pending FETCH at once.
    const stop = () => release(new Error('read aborted'));
    signal.addEventListener('abort', stop, { once: true });
    let open = false;
    let broken: Error | undefined;
    try {
      const text = await inlineParams(client, sql.replace(/[\s;]+$/, ''), options.params ?? []);
      await client.query('BEGIN');
      open = true;
      await client.query(`DECLARE ${CURSOR} CURSOR FOR ${text}`);
      const fetchSize = Math.min(this.settings.fetchSize ?? 1000, chunkSize);
      let columns: Column[] | undefined;
      let converters: ((text: string) => unknown)[] = [];
      let pending: Row[] = [];
      let yielded = false;
      for (;;) {
        const result = await client.query({ text: `FETCH FORWARD ${fetchSize} FROM ${CURSOR}`, rowMode: 'array', types: RAW_TEXT });
        signal.throwIfAborted();
        if (!columns) {
          const described = result.fields.map(redshiftColumn);
          columns = described.map((d) => d.column);
          converters = described.map((d) => d.convert);
        }
        for (const raw of result.rows as unknown[][]) pending.push(textRow(raw, columns, converters));
        const done = result.rows.length < fetchSize;
        while (pending.length >= chunkSize || (done && (pending.length > 0 || !yielded))) {
          const chunk = pending.slice(0, chunkSize);
          pending = pending.slice(chunkSize);
          yielded = true;
          yield { columns, rows: chunk };
          if (pending.length === 0 && done) break;
        }
        if (done) break;
      }
      await client.query(`CLOSE ${CURSOR}`);
      await client.query('END');
      open = false;
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      if (signal.aborted) throw signal.reason;
      throw this.failure('the query failed', error);
    } finally {
      signal.removeEventListener('abort', stop);
      // A read left early (the consumer stopped) ends its transaction so the connection is reusable.
      if (open && !broken && !released) await client.query('ROLLBACK').catch((error: Error) => { broken = error; });
      release(broken);
    }
  }

  readonly fingerprintSql = redshiftDialect;

  /** Statements on this source's pool, for a diff run inside the cluster. */
  openSession(): WarehouseSession {
    return postgresSession(() => this.connect(), redshiftDialect);
  }

  /** Redshift takes `$1` in prepared statements; read() inlines them as server-quoted literals. */
  placeholder(index: number): string {
    return `$${index}`;
  }

  readonly quoteIdentifier = quoteIdentifier;

  /** `customers` or `analytics.customers`: each part quoted. */
  tableQuery(table: string): string {
    return selectFromTable(table, this.quoteIdentifier);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private connect(): Promise<pg.PoolClient> {
    return this.server.connect();
  }

  private failure(what: string, error: unknown): RunError {
    return this.server.failure(what, error);
  }
}
