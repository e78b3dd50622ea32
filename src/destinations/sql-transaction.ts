import type { SyncError } from '../errors.ts';
import type { RecordResult, WriteContext } from './destination.ts';
import type { StatementGroup, StatementRow } from './sql-batch.ts';

/** What a dialect's statements report while a batch's transaction runs. */
export interface StatementScope {
  /** One statement sent: an API call of the run. */
  call(): void;
  trace(text: string): void;
}

/** One pooled connection of a SQL destination, as writeBatch() drives it. */
export interface SqlSession {
  /** A statement that answers nothing: BEGIN, SAVEPOINT …, COMMIT, ROLLBACK. */
  run(sql: string): Promise<void>;
  /** Writes these rows of one group, in as many statements as the dialect needs: one result per row. */
  write(group: StatementGroup, scope: StatementScope): Promise<RecordResult[]>;
  /** The SyncError a driver error means, naming the column from what the failing statement wrote. */
  failure(error: unknown): SyncError;
  /** Hands the connection back to the pool; `broken` (a ROLLBACK failed) closes it instead. */
  release(broken: boolean): void;
}

const SAVEPOINT = 'lastmile_rows';

/**
 * Writes a batch in one transaction (one request of the run's budget; each statement one API
 * call), each group under a savepoint. When the table refuses a row (a 'terminal' error: a value
 * too long, a NULL, a constraint), the group goes back to its savepoint and is written again in
 * halves, until every refused row is alone and rejected with the server's code; the other rows
 * commit. The halving draws on the run's split budget, the same bounded one the engine splits
 * whole requests with (ctx.splits): when it is used up, the refusal is thrown and the engine
 * gives the batch back or defers it. Any other failure (the connection, a lock, a missing column)
 * rolls the whole batch back and is thrown, for the engine to retry or stop on.
 */
export async function writeBatch(session: SqlSession, groups: StatementGroup[], ctx: WriteContext): Promise<RecordResult[]> {
  return ctx.request(async (call) => {
    const scope: StatementScope = { call, trace: (text) => ctx.trace(text) };
    let broken = false;
    try {
      await session.run('BEGIN');
      const results: RecordResult[] = [];
      for (const group of groups) results.push(...(await writeIsolating(session, group, group.rows, scope, ctx)));
      await session.run('COMMIT');
      return results;
    } catch (error) {
      await session.run('ROLLBACK').catch(() => { broken = true; });
      throw session.failure(error);
    } finally {
      session.release(broken);
    }
  });
}

/**
 * Writes the rows under a savepoint; when the table refuses one of them, writes each half again.
 * Halving costs about two statements per refused row and level (10 bad rows in 1,000: ~150
 * statements, not 1,000), and takes far fewer savepoints than one per row would: Postgres
 * keeps every savepoint that wrote until COMMIT, and slows down past 64.
 */
async function writeIsolating(
  session: SqlSession, group: StatementGroup, rows: StatementRow[], scope: StatementScope, ctx: WriteContext,
): Promise<RecordResult[]> {
  ctx.signal.throwIfAborted();
  await session.run(`SAVEPOINT ${SAVEPOINT}`);
  let results: RecordResult[];
  try {
    results = await session.write({ ...group, rows }, scope);
  } catch (error) {
    const refusal = session.failure(error);
    if (refusal.kind !== 'terminal') throw refusal;
    // Also ends the transaction's own abort state (Postgres) and undoes the statements of a
    // multi-statement query that ran before the failing one (MySQL updates).
    await session.run(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
    await session.run(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    if (rows.length === 1) {
      ctx.splits.found();
      return [rejected(rows[0]!, refusal)];
    }
    if (!ctx.splits.takeSplit()) throw refusal;
    if (rows === group.rows) ctx.trace(`${refusal.code ?? 'refused'}: ${group.op} of ${rows.length} rows rolled back to a savepoint, written again in halves to find the rows at fault`);
    const half = Math.ceil(rows.length / 2);
    return [
      ...(await writeIsolating(session, group, rows.slice(0, half), scope, ctx)),
      ...(await writeIsolating(session, group, rows.slice(half), scope, ctx)),
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
