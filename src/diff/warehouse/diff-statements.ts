/**
 * The diff as plain SQL over two relations, for any engine that takes CREATE TABLE … AS SELECT:
 * - the current rows, `cur` (lm_key, lm_fp[, lm_cursor]): one row per model row, key and recipe
 *   v1 fingerprint computed where the data is;
 * - the state of the sync, `state` (row_key, fp, status, dest_id, match_json).
 * It leaves three scratch tables: `dup` (keys the model holds more than once), and `diff`
 * (lm_key, lm_kind: added | changed | removed), the only rows that ever need to leave.
 * Duplicated and null keys are neither added, changed nor removed: they are invalid.
 */
export interface DiffTables {
  cur: string;
  dup: string;
  diff: string;
}

export interface DiffOptions {
  /** Cursor mode: only rows at or past the mark are in `cur`, so absence is no removal. */
  incremental: boolean;
  retryRejected: boolean;
  fullResync: boolean;
}

export interface ScratchSql {
  createScratch(table: string, select: string): string;
  indexScratch(table: string, column: string): string[];
}

/** Statements that fill `dup` and `diff` from `cur` (already created) and `state` (a SELECT). */
export function diffStatements(sql: ScratchSql, t: DiffTables, state: string, options: DiffOptions): string[] {
  const forced = [options.retryRejected ? `p.status IN ('rejected', 'outdated')` : '', options.fullResync ? '1 = 1' : '']
    .filter(Boolean).join(' OR ') || '1 = 0';
  const notDuplicated = (column: string) => `NOT EXISTS (SELECT 1 FROM ${t.dup} AS d WHERE d.lm_key = ${column})`;
  const differences = `SELECT c.lm_key, CASE WHEN p.row_key IS NULL THEN 'added' ELSE 'changed' END AS lm_kind
     FROM ${t.cur} AS c LEFT JOIN (${state}) AS p ON p.row_key = c.lm_key
     WHERE c.lm_key IS NOT NULL AND ${notDuplicated('c.lm_key')} AND (p.row_key IS NULL OR p.fp <> c.lm_fp OR ${forced})`;
  const removed = `SELECT p.row_key AS lm_key, 'removed' AS lm_kind FROM (${state}) AS p
     WHERE NOT EXISTS (SELECT 1 FROM ${t.cur} AS c WHERE c.lm_key = p.row_key)`;
  return [
    ...sql.indexScratch(t.cur, 'lm_key'),
    sql.createScratch(t.dup, `SELECT lm_key, count(*) AS copies FROM ${t.cur} WHERE lm_key IS NOT NULL GROUP BY lm_key HAVING count(*) > 1`),
    sql.createScratch(t.diff, options.incremental ? differences : `${differences} UNION ALL ${removed}`),
    ...sql.indexScratch(t.diff, 'lm_key'),
  ];
}

/** One row of counts: fetched, null_keys, duplicated, previous, added, changed, removed. */
export function countsQuery(t: DiffTables, state: string): string {
  const kind = (k: string) => `(SELECT count(*) FROM ${t.diff} WHERE lm_kind = '${k}') AS ${k}`;
  return `SELECT (SELECT count(*) FROM ${t.cur}) AS fetched,
    (SELECT count(*) FROM ${t.cur} WHERE lm_key IS NULL) AS null_keys,
    (SELECT coalesce(sum(copies), 0) FROM ${t.dup}) AS duplicated,
    (SELECT count(*) FROM (${state}) AS p WHERE NOT EXISTS (SELECT 1 FROM ${t.dup} AS d WHERE d.lm_key = p.row_key)) AS previous,
    ${kind('added')}, ${kind('changed')}, ${kind('removed')}`;
}

/** DiffCounts from the row countsQuery gives. */
export function countsOf(row: Record<string, unknown>) {
  const n = (name: string) => Number(row[name] ?? 0);
  const invalid = n('null_keys') + n('duplicated');
  return {
    fetched: n('fetched'), added: n('added'), changed: n('changed'), removed: n('removed'),
    unchanged: n('fetched') - invalid - n('added') - n('changed'), invalid, previous: n('previous'),
  };
}

/** Rows of `dup` and the null keys of `cur`: key (NULL for the null key) and copies. */
export function invalidKeysQuery(t: DiffTables): string {
  return `SELECT lm_key AS invalid_key, copies FROM ${t.dup}
          UNION ALL SELECT NULL, count(*) FROM ${t.cur} WHERE lm_key IS NULL HAVING count(*) > 0`;
}
