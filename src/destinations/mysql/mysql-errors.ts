import { SyncError } from '../../errors.ts';
import type { RejectCategory } from '../destination.ts';

export interface MyErrorContext {
  destination: string;
  /** host:port/database — never the URL, which may hold a password. */
  server: string;
  table: string;
  /** The columns the failing statement wrote, to name the one at fault. */
  columns?: string[];
  /** The server is MariaDB, whose own errnos mysql2 names as MySQL's (or not at all). */
  mariadb?: boolean;
}

interface MysqlErrorLike extends Error {
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
}

/** Retry: the server is unreachable, busy or shutting down, or the transaction lost a lock race. */
/** Transient failures after which the transaction certainly did not commit. */
const NOT_APPLIED = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_OUT_OF_RESOURCES', 'ER_CANT_CREATE_THREAD', 'ER_LOCK_TABLE_FULL',
]);

const TRANSIENT = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED',
  'ER_NET_READ_ERROR', 'ER_NET_READ_INTERRUPTED', 'ER_NET_ERROR_ON_WRITE', 'ER_NET_WRITE_INTERRUPTED',
  'ER_OUT_OF_RESOURCES', 'ER_CANT_CREATE_THREAD', 'ER_LOCK_TABLE_FULL',
]);

/** Stop the run: what to fix, for each configuration mistake the server can report. */
const CONFIG: Record<string, (table: string) => string> = {
  ER_ACCESS_DENIED_ERROR: () => 'check `user` and `password`',
  ER_ACCESS_DENIED_NO_PASSWORD_ERROR: () => 'check `user` and `password`',
  ER_NOT_SUPPORTED_AUTH_MODE: () => 'the server asks for an authentication method the driver lacks',
  ER_HOST_NOT_PRIVILEGED: () => 'the server does not accept connections from this host for this user',
  ER_DBACCESS_DENIED_ERROR: () => 'grant the user access to the database',
  ER_TABLEACCESS_DENIED_ERROR: (table) => `grant INSERT, UPDATE, DELETE on ${table}`,
  ER_COLUMNACCESS_DENIED_ERROR: (table) => `grant access to the columns of ${table}`,
  ER_BAD_DB_ERROR: () => 'check `database`',
  ER_NO_SUCH_TABLE: (table) => `create table ${table}, or set \`createTable: true\` on the sync`,
  ER_BAD_FIELD_ERROR: (table) => `map only columns that table ${table} has, or add the column`,
  ER_PARSE_ERROR: () => 'the statement was refused as invalid',
  ENOTFOUND: () => 'the host does not resolve; check `host` or `url`',
};

/** MariaDB's own errnos that mysql2 names as MySQL's (4025 is an InnoDB setting there) or not at all. */
const MARIADB_CODES: Record<number, string> = {
  1927: 'ER_CONNECTION_KILLED', // KILL, or the server shutting down, ended the connection mid-statement
  4025: 'ER_CONSTRAINT_FAILED', // a CHECK constraint refused the row
};

/** Refused for good, but by the value rather than its SQLSTATE class (MySQL files these under HY000). */
const VALUE_ERRORS = new Set(['ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', 'ER_TRUNCATED_WRONG_VALUE', 'ER_WARN_DATA_OUT_OF_RANGE', 'ER_DATA_TOO_LONG', 'ER_INVALID_JSON_TEXT']);
const ROW_ERRORS = new Set(['ER_NO_DEFAULT_FOR_FIELD', 'ER_BAD_NULL_ERROR', 'ER_DUP_ENTRY', 'ER_CONSTRAINT_FAILED', 'ER_CHECK_CONSTRAINT_VIOLATED', 'ER_NO_REFERENCED_ROW_2', 'ER_ROW_IS_REFERENCED_2']);

/**
 * Translates a mysql2 error into the SyncError kind the engine acts on. A value or constraint
 * error is 'terminal', with the server's code (ER_DATA_TOO_LONG) and the column it names:
 * writeBatch() rejects the row with them once it has isolated it.
 */
export function toSyncError(error: unknown, context: MyErrorContext): SyncError {
  if (error instanceof SyncError) return error;
  const err = error as MysqlErrorLike;
  const prefix = `mysql destination "${context.destination}" (${context.server})`;
  const code = (context.mariadb && err.errno ? MARIADB_CODES[err.errno] : undefined) ?? err.code;
  if (!code) throw error; // not a database answer: a bug, let it surface as is
  const text = err.sqlMessage ?? err.message;
  const ids = [err.errno && err.errno > 0 ? `errno ${err.errno}` : '', err.sqlState ? `SQLSTATE ${err.sqlState}` : ''].filter(Boolean);
  const message = `${prefix}: ${text} (${[code, ...ids].join(', ')})`;
  if (TRANSIENT.has(code)) return new SyncError('transient', `${message}; retrying`, { code, cause: error, ambiguous: !NOT_APPLIED.has(code) });
  const advice = CONFIG[code];
  if (advice) return new SyncError('config', `${message}: ${advice(context.table)}`, { code, cause: error });
  if (!err.errno || err.errno < 1000) {
    // A client-side failure that is neither network nor configuration (a protocol error).
    return new SyncError('transient', `${message}; retrying`, { code, cause: error });
  }
  const cls = err.sqlState?.slice(0, 2);
  const category: RejectCategory = VALUE_ERRORS.has(code) || cls === '22'
    ? 'schema_mismatch'
    : ROW_ERRORS.has(code) || cls === '23' ? 'invalid_row' : 'destination_error';
  const field = namedColumn(text, context.columns ?? []);
  return new SyncError('terminal', message, { code, field, category, cause: error });
}

/**
 * The column a message names: "Data too long for column 'code' at row 2", "Column 'code'
 * cannot be null", "Incorrect integer value: 'abc' for column `db`.`t`.`qty` at row 1".
 * Matched against the statement's own columns, longest first, so odd names work too.
 */
function namedColumn(text: string, columns: string[]): string | undefined {
  const lower = text.toLowerCase();
  for (const column of [...columns].sort((a, b) => b.length - a.length)) {
    const name = column.toLowerCase();
    const ticked = `\`${name.replaceAll('`', '``')}\``;
    const forms = [`column '${name}'`, `field '${name}'`, `column ${ticked}`, `.${ticked}`, `column \`${name}\``, `.\`${name}\``];
    if (forms.some((form) => lower.includes(form))) return column;
  }
  return undefined;
}
