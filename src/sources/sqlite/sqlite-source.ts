import { existsSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { RunError } from '../../errors.ts';
import type { Column, ReadOptions, Row, RowChunk, Source, Value } from '../source.ts';
import { sqliteColumn, toSqliteParam } from './sqlite-values.ts';
import { quoteIdentifier, selectFromTable } from '../../sql-identifier.ts';

/**
 * A SQLite database file, opened read-only for each read. Rows come from a statement
 * iterator, `chunkSize` at a time; between chunks the event loop gets a turn, since
 * better-sqlite3 reads synchronously.
 */
export class SqliteSource implements Source {
  readonly type = 'sqlite';

  constructor(readonly name: string, readonly path: string, private readonly rootDir: string) {}

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const db = this.open();
    try {
      db.prepare('SELECT 1').get();
    } catch (error) {
      throw this.failure('the check query failed', error);
    } finally {
      db.close();
    }
  }

  async *read(sql: string, options: ReadOptions): AsyncIterable<RowChunk> {
    const { chunkSize, signal } = options;
    signal.throwIfAborted();
    const db = this.open();
    let iterator: IterableIterator<unknown[]> | undefined;
    try {
      let rawColumns: Database.ColumnDefinition[];
      try {
        const statement = db.prepare(sql);
        if (!statement.reader) throw new Error('the statement returns no rows (a model must be a SELECT)');
        statement.safeIntegers(true).raw(true);
        rawColumns = statement.columns();
        iterator = statement.iterate(...(options.params ?? []).map(toSqliteParam)) as IterableIterator<unknown[]>;
      } catch (error) {
        throw this.failure('the query failed', error);
      }
      let columns: Column[] | undefined;
      let converters: ((value: unknown) => Value)[] = [];
      let rows: Row[] = [];
      let yielded = false;
      for (;;) {
        let next: IteratorResult<unknown[]>;
        try {
          next = iterator.next();
        } catch (error) {
          throw this.failure('the query failed', error);
        }
        if (next.done) break;
        if (!columns) {
          const described = rawColumns.map((c, i) => sqliteColumn(c.name, c.type, next.value[i]));
          columns = described.map((d) => d.column);
          converters = described.map((d) => d.convert);
        }
        rows.push(toRow(next.value, columns, converters));
        if (rows.length === chunkSize) {
          yielded = true;
          yield { columns, rows };
          rows = [];
          await nextTurn();
          signal.throwIfAborted();
        }
      }
      columns ??= rawColumns.map((c) => sqliteColumn(c.name, c.type, null).column);
      if (rows.length > 0 || !yielded) yield { columns, rows };
    } finally {
      iterator?.return?.();
      db.close();
    }
  }

  placeholder(): string {
    return '?';
  }

  readonly quoteIdentifier = quoteIdentifier;

  /** `customers` or `main.customers`: each part quoted. */
  tableQuery(table: string): string {
    return selectFromTable(table, this.quoteIdentifier);
  }

  async close(): Promise<void> {}

  private open(): Database.Database {
    if (!existsSync(this.path)) {
      throw new RunError(
        `source "${this.name}": SQLite database ${this.path} does not exist; fix "path" (relative paths start at ${this.rootDir})`,
      );
    }
    try {
      return new Database(this.path, { readonly: true, fileMustExist: true });
    } catch (error) {
      throw this.failure(`cannot open SQLite database ${this.path}`, error);
    }
  }

  private failure(what: string, error: unknown): RunError {
    return new RunError(`source "${this.name}": ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function toRow(raw: unknown[], columns: Column[], converters: ((value: unknown) => Value)[]): Row {
  const row: Row = {};
  for (let c = 0; c < columns.length; c++) {
    const value = raw[c];
    row[columns[c]!.name] = value === null || value === undefined ? null : converters[c]!(value);
  }
  return row;
}
