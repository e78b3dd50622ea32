import type { SyncError } from '../errors.ts';
import type { RecordResult, WriteContext } from './destination.ts';
import type { StatementGroup, StatementRow } from './sql-batch.ts';

/** One pooled connection of a SQL destination, as writeBatch() drives it. */
export interface SqlSession {
  /** A statement that answers nothing: BEGIN, SAVEPOINT …, COMMIT, ROLLBACK. */
  run(sql: string): Promise<void>;
  /** Writes these rows of one group, in as many statements as the dialect needs: one result per row. */
  write(group: StatementGroup, ctx: WriteContext): Promise<RecordResult[]>;
  /** The SyncError a driver error means, naming the column from what the failing statement wrote. */
  failure(error: unknown): SyncError;
  /** Hands the connection back to the pool; `broken` (a ROLLBACK failed) closes it instead. */
  release(broken: boolean): void;
}

const SAVEPOINT = 'lastmile_rows';

/**
 * Writes a batch in one transaction, each group under a savepoint. When the table refuses a
 * row (a 'terminal' error: a value too long, a NULL, a constraint), the group goes back to its
 * savepoint and is written again in halves, until every refused row is alone and rejected with
 * the server's code; the other rows commit. Any other failure (the connection, a lock, a missing
 * column) rolls the whole batch back and is thrown, for the engine to retry or stop on.
 */
export async function writeBatch(session: SqlSession, groups: StatementGroup[], ctx: WriteContext): Promise<RecordResult[]> {
  let broken = false;
  try {
    await session.run('BEGIN');
    const results: RecordResult[] = [];
    for (const group of groups) results.push(...(await writeIsolating(session, group, group.rows, ctx)));
    await session.run('COMMIT');
    return results;
  } catch (error) {
    await session.run('ROLLBACK').catch(() => { broken = true; });
    throw session.failure(error);
  } finally {
    session.release(broken);
  }
}

/**
 * Writes the rows under a savepoint; when the table refuses one of them, writes each half again.
 * Halving costs about two statements per refused row and level (10 bad rows in 1,000: ~150
 * statements, not 1,000), and takes far fewer savepoints than one per row would: Postgres
 * keeps every savepoint that wrote until COMMIT, and slows down past 64.
 */
async function writeIsolating(session: SqlSession, group: StatementGroup, rows: StatementRow[], ctx: WriteContext): Promise<RecordResult[]> {
  ctx.signal.throwIfAborted();
  await session.run(`SAVEPOINT ${SAVEPOINT}`);
  let results: RecordResult[];
  try {
    results = await session.write({ ...group, rows }, ctx);
  } catch (error) {
    const refusal = session.failure(error);
    if (refusal.kind !== 'terminal') throw refusal;
    // Also ends the transaction's own abort state (Postgres) and undoes the statements of a
    // multi-statement query that ran before the failing one (MySQL updates).
    await session.run(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    await session.run(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    if (rows.length === 1) return [rejected(rows[0]!, refusal)];
    if (rows === group.rows) ctx.trace(`${refusal.code ?? 'refused'}: ${group.op} of ${rows.length} rows rolled back to a savepoint, written again in halves to find the rows at fault`);
    const half = Math.ceil(rows.length / 2);
    return [
      ...(await writeIsolating(session, group, rows.slice(0, half), ctx)),
      ...(await writeIsolating(session, group, rows.slice(half), ctx)),
    ];
  }
  await session.run(`RELEASE SAVEPOINT ${SAVEPOINT}`);
  return results;
}

/** A row the table refused alone: retrying will not help until the row changes. */
function rejected(row: StatementRow, refusal: SyncError): RecordResult {
  return {
    key: row.key,
    outcome: 'rejected',
    rejection: {
      category: refusal.category ?? 'destination_error',
      message: refusal.message,
      ...(refusal.code === undefined ? {} : { code: refusal.code }),
      ...(refusal.field === undefined ? {} : { field: refusal.field }),
      retryable: false,
    },
  };
}
