import { ROW_STATUSES, type RowStateFiles, type RowStateUpdate } from './state-store.ts';
import { matchJson } from './value-json.ts';
import { quoteIdentifier } from '../sql-identifier.ts';

/**
 * DuckDB SQL and journal lines for row state in files (RowStateFiles): "base rows overridden by
 * the latest journal entry per key, up to a sequence number". The embedded store's base is its
 * Parquet snapshot, Postgres's a CSV export; the journal an NDJSON file of updates. Bounding the
 * journal makes the relation a stable snapshot; with nothing to override it is the base alone,
 * which DuckDB scans and joins at full speed.
 */

/** Fingerprint written by forgetFingerprints: differs from any real fingerprint, so `fp <> prev.fp` holds. */
export const FORGOTTEN_FP = '0';
const MAX_FP = (1n << 64n) - 1n;

/** DuckDB (embedded state) and Postgres quote identifiers the same, standard way. */
export const quoteIdent = quoteIdentifier;

export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The row state columns, in order: every relation over state has them. */
export const ROW_STATE_COLUMNS = ['key', 'fp', 'status', 'dest_id', 'match', 'local_fp'] as const;

/** `selectSql`'s rows, cast to the row state columns (so a seed query may be loosely typed). */
export function typedRowState(selectSql: string): string {
  return `SELECT CAST(key AS VARCHAR) AS key, CAST(fp AS UBIGINT) AS fp, CAST(status AS VARCHAR) AS status,
    CAST(dest_id AS VARCHAR) AS dest_id, CAST(match AS VARCHAR) AS match, CAST(local_fp AS UBIGINT) AS local_fp FROM (${selectSql}) AS lm_rows`;
}

export const EMPTY_ROW_STATE = `SELECT NULL::VARCHAR AS key, NULL::UBIGINT AS fp, NULL::VARCHAR AS status,
  NULL::VARCHAR AS dest_id, NULL::VARCHAR AS match, NULL::UBIGINT AS local_fp WHERE false`;

const JOURNAL_COLUMNS = `{s: 'UBIGINT', k: 'VARCHAR', f: 'UBIGINT', st: 'VARCHAR', d: 'VARCHAR', m: 'VARCHAR', h: 'UBIGINT', x: 'BOOLEAN'}`;

/** A journal file and the last entry of it the relation includes. */
export interface JournalBound {
  path: string;
  upToSeq: number;
}

/** Journal entries up to the bound, latest per key. A torn last line (crash mid-append) reads as nulls and is dropped. */
export function journalSql({ path, upToSeq }: JournalBound): string {
  return `SELECT k, f, st, d, m, h, coalesce(x, false) AS x
    FROM read_json(${quoteLiteral(path)}, format = 'newline_delimited', columns = ${JOURNAL_COLUMNS}, ignore_errors = true)
    WHERE s IS NOT NULL AND s <= ${upToSeq} AND k IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY k ORDER BY s DESC) = 1`;
}

const CSV_COLUMNS = `{key: 'VARCHAR', fp: 'UBIGINT', status: 'VARCHAR', dest_id: 'VARCHAR', match: 'VARCHAR', local_fp: 'UBIGINT'}`;

/** A SELECT of the row state `files` hold (ROW_STATE_COLUMNS). */
export function rowStateSql(files: Pick<RowStateFiles, 'base' | 'journal'>): string {
  const base = !files.base ? EMPTY_ROW_STATE
    : files.base.format === 'parquet'
      ? `SELECT key, fp, status, dest_id, match, ${files.base.withLocalFp ? 'local_fp' : 'NULL::UBIGINT AS local_fp'} FROM read_parquet(${quoteLiteral(files.base.path)})`
      : `SELECT * FROM read_csv(${quoteLiteral(files.base.path)}, header = false, auto_detect = false, columns = ${CSV_COLUMNS},
          quote = '"', escape = '"', allow_quoted_nulls = false)`;
  const journal = files.journal;
  if (!journal || journal.upToSeq === 0) return base;
  return `WITH lm_journal AS (${journalSql(journal)})
    SELECT b.key, b.fp, b.status, b.dest_id, b.match, b.local_fp FROM (${base}) AS b ANTI JOIN lm_journal AS j ON j.k = b.key
    UNION ALL
    SELECT k, f, st, d, m, h FROM lm_journal WHERE NOT x`;
}

/** Throws before anything is written when an update could not be read back exactly. */
export function validateUpdates(sync: string, updates: RowStateUpdate[]): void {
  const fail = (update: RowStateUpdate, problem: string) => new TypeError(`state of sync "${sync}", key ${JSON.stringify(update.key)}: ${problem}`);
  for (const update of updates) {
    if (typeof update.key !== 'string' || !update.key.isWellFormed() || update.key.includes('\0')) {
      throw fail(update, 'a key must be well-formed text without NUL characters');
    }
    if ('deleted' in update) continue;
    const { fp, localFp } = update;
    if (!isUint64(fp)) throw fail(update, `fingerprint ${JSON.stringify(fp)} is not an unsigned 64-bit decimal`);
    if (localFp != null && !isUint64(localFp)) throw fail(update, `local fingerprint ${JSON.stringify(localFp)} is not an unsigned 64-bit decimal`);
    if (!ROW_STATUSES.includes(update.status)) {
      throw fail(update, `status must be one of ${ROW_STATUSES.map((s) => `"${s}"`).join(', ')}, not ${JSON.stringify(update.status)}`);
    }
  }
}

const DIGITS = /^\d{1,20}$/;

function isUint64(text: string): boolean {
  // Twenty digits may still pass 2^64 - 1: only those need the exact comparison.
  return DIGITS.test(text) && (text.length < 20 || BigInt(text) <= MAX_FP);
}

/** NDJSON lines for `updates`, numbered from `firstSeq` (later lines win). */
export function journalLines(updates: RowStateUpdate[], firstSeq: number): string {
  let seq = firstSeq;
  let out = '';
  // Written field by field: the same text JSON.stringify gives an object of these keys, without the object.
  for (const u of updates) {
    const key = JSON.stringify(u.key);
    if ('deleted' in u) {
      out += `{"s":${seq++},"k":${key},"x":true}\n`;
      continue;
    }
    const match = matchJson(u.match);
    out += `{"s":${seq++},"k":${key},"f":"${u.fp}","st":"${u.status}","d":${u.destId == null ? 'null' : JSON.stringify(u.destId)},` +
      `"m":${match === null ? 'null' : JSON.stringify(match)},"h":${u.localFp == null ? 'null' : `"${u.localFp}"`}}\n`;
  }
  return out;
}
