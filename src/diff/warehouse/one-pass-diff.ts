import type { DiffCounts } from '../diff.ts';
import type { DiffOptions, ScratchSql } from './diff-statements.ts';

/**
 * The warehouse diff in one pass over the model, as a person would write it by hand: every row
 * keyed and fingerprinted, joined to the state, and only the rows that differ written to the
 * scratch table `diff` with their columns and their state (lm_key, lm_fp, lm_kind: added |
 * changed | invalid for a null key; lm_status, lm_dest_id, lm_match), and `removed` the state
 * rows whose key left the model. Duplicated keys hide among the rest only rarely: they are found in
 * `diff` itself, and the model is grouped by key only when the counts say one hides among the
 * unchanged rows (or in cursor mode, where the counts cannot tell).
 */
export interface OnePassTables {
  diff: string;
  /** State rows whose key left the model (apart: the model's columns may not be nullable there). */
  removed: string;
  dup: string;
}

/** The model relation with its key and fingerprint in front: `key` and `fp` are the dialect's expressions. */
export function keyedModel(modelSql: string, key: string, fp?: string): string {
  return `SELECT ${key} AS lm_key${fp ? `, ${fp} AS lm_fp` : ''}, lm_model.* FROM (${modelSql}) AS lm_model`;
}

export function diffStatement(sql: ScratchSql, t: OnePassTables, keyed: string, state: string, options: DiffOptions): string {
  const forced = [options.retryRejected ? `p.status IN ('rejected', 'outdated')` : '', options.fullResync ? '1 = 1' : '']
    .filter(Boolean).join(' OR ') || '1 = 0';
  return sql.createScratch(t.diff,
    `SELECT CASE WHEN c.lm_key IS NULL THEN 'invalid' WHEN p.row_key IS NULL THEN 'added' ELSE 'changed' END AS lm_kind,
            p.status AS lm_status, p.dest_id AS lm_dest_id, p.match_json AS lm_match, c.*
     FROM (${keyed}) AS c LEFT JOIN (${state}) AS p ON p.row_key = c.lm_key
     WHERE c.lm_key IS NULL OR p.row_key IS NULL OR p.fp <> c.lm_fp OR ${forced}`);
}

/** State rows whose key the model no longer holds (`keys`: the model's keys, a relation with lm_key); none in cursor mode. */
export function removedStatement(sql: ScratchSql, t: OnePassTables, keys: string, state: string, incremental: boolean): string {
  return sql.createScratch(t.removed, `SELECT p.row_key AS lm_key, p.status AS lm_status, p.dest_id AS lm_dest_id, p.match_json AS lm_match
    FROM (${state}) AS p WHERE ${incremental ? '1 = 0 AND ' : ''}NOT EXISTS (SELECT 1 FROM (${keys}) AS c WHERE c.lm_key = p.row_key)`);
}

/** Keys the differences hold more than once. */
export function visibleDuplicates(sql: ScratchSql, t: OnePassTables): string {
  return sql.createScratch(t.dup, `SELECT lm_key, count(*) AS copies FROM ${t.diff} WHERE lm_kind IN ('added', 'changed') GROUP BY lm_key HAVING count(*) > 1`);
}

/** Every key the model holds more than once (a full pass: only when one may hide among unchanged rows). */
export function allDuplicates(sql: ScratchSql, t: OnePassTables, keys: string): string {
  return sql.createScratch(t.dup, `SELECT lm_key, count(*) AS copies FROM (${keys}) AS c WHERE lm_key IS NOT NULL GROUP BY lm_key HAVING count(*) > 1`);
}

/** Counts of the differences: rows and distinct keys by kind, duplicates excluded (`dup` filled). */
export function countsQuery(t: OnePassTables, state: string): string {
  const notDup = (column: string) => `NOT EXISTS (SELECT 1 FROM ${t.dup} AS d WHERE d.lm_key = ${column})`;
  const kind = (k: string) => `(SELECT count(*) FROM ${t.diff} AS x WHERE lm_kind = '${k}' AND ${notDup('x.lm_key')}) AS ${k}`;
  return `SELECT ${kind('added')}, ${kind('changed')}, (SELECT count(*) FROM ${t.removed}) AS removed,
    (SELECT count(*) FROM ${t.diff} WHERE lm_kind = 'invalid') AS null_keys,
    (SELECT coalesce(sum(copies), 0) FROM ${t.dup}) AS duplicated,
    (SELECT count(*) FROM ${t.diff} WHERE lm_kind IN ('added', 'changed', 'invalid')) AS differing_rows,
    (SELECT count(DISTINCT lm_key) FROM ${t.diff} WHERE lm_kind = 'changed') AS changed_keys,
    (SELECT count(*) FROM (${state}) AS p) AS state_rows,
    (SELECT count(*) FROM ${t.dup} AS d JOIN (${state}) AS p ON p.row_key = d.lm_key) AS duplicated_in_state`;
}

/**
 * Whether a duplicated key may hide among the unchanged rows: more unchanged rows than state
 * keys left to match them (each state key matches one row unless its key is duplicated).
 */
export function mayHideDuplicates(row: Record<string, unknown>, fetched: number): boolean {
  const n = (name: string) => Number(row[name] ?? 0);
  const unchangedRows = fetched - n('differing_rows');
  const unchangedKeys = n('state_rows') - n('removed') - n('changed_keys');
  return unchangedRows > unchangedKeys;
}

export function countsOf(row: Record<string, unknown>, fetched: number): DiffCounts {
  const n = (name: string) => Number(row[name] ?? 0);
  const invalid = n('null_keys') + n('duplicated');
  return {
    fetched, added: n('added'), changed: n('changed'), removed: n('removed'),
    unchanged: fetched - invalid - n('added') - n('changed'), invalid, previous: n('state_rows') - n('duplicated_in_state'),
  };
}
