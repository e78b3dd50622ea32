import { SyncError } from '../../errors.ts';
import type { Value } from '../../sources/source.ts';
import type { RejectCategory } from '../destination.ts';
import type { PgColumn } from './postgres-schema.ts';

/** What the error translation needs to know to name the server, the table and the column. */
export interface PgErrorContext {
  destination: string;
  /** host:port/database — never the URL, which may hold a password. */
  server: string;
  table: string;
  /** The columns the failing statement wrote, to name the one at fault. */
  columns?: string[];
  /** The rows it wrote and the table's column types, to find a value that cannot fit. */
  rows?: Record<string, Value>[];
  types?: Map<string, PgColumn>;
}

interface PgErrorLike extends Error {
  code?: string;
  column?: string;
  detail?: string;
  where?: string;
  constraint?: string;
  errors?: { code?: string }[];
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Translates a pg error into the SyncError kind the engine acts on, by SQLSTATE class:
 * 08/53/57/40/55 (connection, resources, shutdown, deadlock, lock) retry; 28/3D/3F/42/0A
 * (credentials, unknown database/schema/table/column, privileges) stop the run; 22/23 (a value
 * or a constraint) are terminal: writeBatch() rejects the row with them once it has isolated it.
 */
export function toSyncError(error: unknown, context: PgErrorContext): SyncError {
  if (error instanceof SyncError) return error;
  const err = error as PgErrorLike;
  const prefix = `postgres destination "${context.destination}" (${context.server})`;
  const code = err.code ?? err.errors?.find((e) => e.code)?.code;
  if (code && NETWORK_CODES.has(code)) {
    return new SyncError('transient', `${prefix}: cannot reach the server (${code}); retrying, check that Postgres runs and accepts connections`, { code, cause: error });
  }
  if (code === 'ENOTFOUND') {
    return new SyncError('config', `${prefix}: the host does not resolve (ENOTFOUND); check \`host\` or \`url\``, { code, cause: error });
  }
  if (!code || !/^[0-9A-Z]{5}$/.test(code)) {
    // pg reports a dropped connection without a SQLSTATE.
    if (/terminat|timeout|closed|ended/i.test(err.message ?? '')) {
      return new SyncError('transient', `${prefix}: the connection was lost (${err.message}); retrying`, { cause: error });
    }
    throw error; // not a database answer: a bug, let it surface as is
  }
  const message = `${prefix}: ${err.message} (SQLSTATE ${code})`;
  const cls = code.slice(0, 2);
  if (['08', '53', '57', '40', '55', 'XX', '58'].includes(cls)) {
    // A rollback, or resources or a lock refused: the transaction did not commit. A connection
    // or server failure may have hit the commit itself.
    return new SyncError('transient', `${message}; retrying`, { code, cause: error, ambiguous: !['40', '53', '55'].includes(cls) });
  }
  if (cls === '28') {
    return new SyncError('config', `${prefix}: authentication failed (SQLSTATE ${code}): check \`user\` and \`password\``, { code, cause: error });
  }
  if (code === '3D000') {
    return new SyncError('config', `${message}: check \`database\``, { code, cause: error });
  }
  if (code === '42P01' || code === '3F000') {
    return new SyncError('config', `${message}: create table ${context.table}, or set \`createTable: true\` on the sync`, { code, cause: error });
  }
  if (code === '42703') {
    return new SyncError('config', `${message}: map only columns that table ${context.table} has, or add the column`, { code, cause: error });
  }
  if (code === '42P10') {
    return new SyncError('config', `${message}: upsert needs a PRIMARY KEY or UNIQUE index on the match column(s) of ${context.table}`, { code, cause: error });
  }
  if (cls === '42' || cls === '0A') {
    return new SyncError('config', message, { code, cause: error });
  }
  const field = faultyColumn(err, context.columns ?? []) ?? blameValue(code, err.message, context);
  const category: RejectCategory = cls === '22' ? 'schema_mismatch' : cls === '23' ? 'invalid_row' : 'destination_error';
  return new SyncError('terminal', field ? `${message}, column "${field}"` : message, { code, field, category, cause: error });
}

/**
 * The column at fault: Postgres names it for NOT NULL; COPY names it in its context line;
 * a unique violation names it in its detail.
 */
function faultyColumn(err: PgErrorLike, columns: string[]): string | undefined {
  if (err.column) return err.column;
  const byLength = [...columns].sort((a, b) => b.length - a.length);
  if (err.where) {
    const hit = byLength.find((c) => err.where!.includes(`column ${c}:`));
    if (hit) return hit;
  }
  if (err.detail) {
    const hit = byLength.find((c) => err.detail!.startsWith(`Key (${c})=`));
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Errors about a value do not name its column ("value too long for type character
 * varying(10)", 'invalid input syntax for type integer: "abc"', 'value "1099511627776" is out
 * of range for type integer'): find the one column whose values could have caused it. Named
 * only when exactly one column fits.
 */
function blameValue(code: string, message: string, context: PgErrorContext): string | undefined {
  const { rows, types, columns } = context;
  if (!rows?.length || !columns?.length) return undefined;
  let suspects: string[] = [];
  if (code === '22001') {
    suspects = columns.filter((c) => {
      const max = types?.get(c)?.maxLength;
      return max !== undefined && rows.some((row) => typeof row[c] === 'string' && [...(row[c] as string)].length > max);
    });
  } else {
    const quoted = (/: "(.*)"$/s.exec(message) ?? /^value "(.*)" is out of range/s.exec(message))?.[1];
    if (quoted === undefined) return undefined;
    suspects = columns.filter((c) => rows.some((row) => row[c] !== null && row[c] !== undefined && String(row[c]) === quoted));
  }
  return suspects.length === 1 ? suspects[0] : undefined;
}
