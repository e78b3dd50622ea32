import type { Workspace } from './workspace.ts';
import type { Value } from '../../sources/source.ts';
import type { DiffCounts } from '../diff.ts';
import { quoteDuck } from './workspace.ts';
import { fingerprintSql, keySql } from './fingerprint-sql.ts';

/** Workspace tables a diff leaves behind. */
export const DIFF_TABLE = 'lastmile_diff';
export const DUPLICATE_KEYS_TABLE = 'lastmile_duplicate_keys';

export interface DiffInput {
  /** The model relation (see read-model.ts) and its parameters. */
  modelSql: string;
  modelParams: Value[];
  primaryKey: string[];
  /** Mapping signature and the columns the mapped payload depends on. */
  signature: string;
  columns: string[];
  /** Relation holding the previous row state (see workspace-diff.ts). */
  previous: string;
  /** Cursor mode: only new rows were read, so absence does not mean removal. */
  incremental: boolean;
  /** Treat parked (permanently rejected) rows as changed. */
  retryRejected: boolean;
  /** Treat every row that is still in the model as changed. */
  fullResync: boolean;
  /** Cursor column: its largest value read is returned as the high-water mark. */
  cursor?: string;
}

export interface DiffResult {
  counts: DiffCounts;
  highWaterMark: Value | null;
}

/** The fingerprinted model: `__key`, `__fp` and every model column. */
export function fingerprintedModel(input: Pick<DiffInput, 'modelSql' | 'primaryKey' | 'signature' | 'columns'>): string {
  return `SELECT ${keySql(input.primaryKey)} AS __key, ${fingerprintSql(input.signature, input.columns)} AS __fp, m.*
          FROM (${input.modelSql}) AS m`;
}

/**
 * Step 2 of a run, in one pass of DuckDB over the model: fingerprint each row, join with the
 * previous state, and keep one row per difference (DIFF_TABLE: `__key`, `__change` = added |
 * changed | removed) while unchanged rows fold into a single counted group (key NULL). No model column is
 * carried: the delivery step fetches them for the differences only (see delta.ts).
 * Duplicated keys are rare: when the pass sees any, it runs again without them.
 */
export async function computeDiff(workspace: Workspace, input: DiffInput): Promise<DiffResult> {
  const db = workspace.connection;
  await db.run(`DROP TABLE IF EXISTS ${DUPLICATE_KEYS_TABLE}`);
  await db.run(`CREATE TEMP TABLE ${DUPLICATE_KEYS_TABLE} (key VARCHAR, copies BIGINT)`);
  let counts = await diffPass(workspace, input, false);
  if (counts.duplicated) {
    await db.run(
      `INSERT INTO ${DUPLICATE_KEYS_TABLE} SELECT __key, count(*) FROM (${fingerprintedModel(input)})
       WHERE __key IS NOT NULL GROUP BY __key HAVING count(*) > 1`,
      input.modelParams as never,
    );
    counts = await diffPass(workspace, input, true);
  }
  const duplicates = await scalar(workspace, `SELECT coalesce(sum(copies), 0) FROM ${DUPLICATE_KEYS_TABLE}`);
  const invalid = counts.nullKeys + duplicates;
  return {
    counts: {
      fetched: counts.fetched + duplicates,
      added: counts.added,
      changed: counts.changed,
      removed: counts.removed,
      unchanged: counts.unchanged,
      invalid,
      previous: counts.previous,
    },
    highWaterMark: counts.highWaterMark,
  };
}

/** One pass; `withoutDuplicates` leaves out the keys in DUPLICATE_KEYS_TABLE (the second pass only). */
async function diffPass(workspace: Workspace, input: DiffInput, withoutDuplicates: boolean) {
  const db = workspace.connection;
  const cursor = input.cursor ? `, ${quoteDuck(input.cursor)} AS __cursor` : ', NULL AS __cursor';
  const notDuplicated = (column: string) => (withoutDuplicates ? `${column} NOT IN (SELECT key FROM ${DUPLICATE_KEYS_TABLE})` : 'true');
  const current = `SELECT __key, __fp, true AS __in_model ${cursor} FROM (${fingerprintedModel(input)})
                   WHERE __key IS NULL OR ${notDuplicated('__key')}`;
  const previous = `SELECT * FROM ${input.previous} WHERE ${notDuplicated('key')}`;
  const resend = [input.retryRejected ? `p.status IN ('rejected', 'outdated')` : '', input.fullResync ? 'true' : ''].filter(Boolean);
  const differs = ['c.__fp <> p.fp', ...resend].join(' OR ');
  // Unchanged rows (and rows with a null key) fold into the one group whose key is NULL; every
  // difference keeps its own group. `__change` is read off the counts afterwards.
  await db.run(`DROP TABLE IF EXISTS ${DIFF_TABLE}`);
  await db.run(
    `CREATE TEMP TABLE ${DIFF_TABLE} AS
     SELECT *, CASE WHEN __key IS NULL THEN 'unchanged' WHEN __prev_rows = 0 THEN 'added'
                    WHEN __model_rows = 0 THEN 'removed' ELSE 'changed' END AS __change
     FROM (
       SELECT __key, count(*) AS __rows, count(__in_model) AS __model_rows, count(__prev_key) AS __prev_rows,
              ${input.cursor ? 'max(__cursor)' : 'NULL'} AS __cursor
       FROM (
         SELECT CASE WHEN c.__in_model IS NULL OR p.key IS NULL OR ${differs} THEN coalesce(c.__key, p.key) END AS __key,
                c.__in_model, p.key AS __prev_key ${input.cursor ? ', c.__cursor' : ''}
         FROM (${current}) AS c
         ${input.incremental ? 'LEFT JOIN' : 'FULL OUTER JOIN'} (${previous}) AS p ON c.__key = p.key
       )
       GROUP BY __key
     )`,
    input.modelParams as never,
  );
  const row = (await db.runAndReadAll(
    `SELECT
       coalesce(sum(__model_rows), 0) AS fetched,
       count(*) FILTER (WHERE __change = 'added') AS added,
       count(*) FILTER (WHERE __change = 'changed') AS changed,
       count(*) FILTER (WHERE __change = 'removed') AS removed,
       coalesce(sum(__prev_rows) FILTER (WHERE __key IS NULL), 0) AS unchanged,
       coalesce(sum(__model_rows - __prev_rows) FILTER (WHERE __key IS NULL), 0) AS null_keys,
       count(*) FILTER (WHERE __key IS NOT NULL AND __model_rows > 1) AS visible_duplicates,
       coalesce(sum(__prev_rows) FILTER (WHERE __model_rows > 0), 0) AS matched_rows,
       (SELECT count(*) FROM (${previous})) AS previous
     FROM ${DIFF_TABLE}`,
  )).getRowObjects()[0];
  const n = (name: string) => Number(row[name]);
  // A key in state matched by two model rows (one unchanged, one changed) hides in the
  // unchanged group: it shows as more matched rows than matched state keys.
  const matchedKeys = n('previous') - n('removed');
  return {
    fetched: n('fetched'), added: n('added'), changed: n('changed'), removed: n('removed'),
    unchanged: n('unchanged'), nullKeys: n('null_keys'), previous: n('previous'),
    duplicated: n('visible_duplicates') > 0 || n('matched_rows') > matchedKeys,
    highWaterMark: input.cursor ? await maxCursor(workspace) : null,
  };
}

async function maxCursor(workspace: Workspace): Promise<Value | null> {
  const { streamRows } = await import('../../sources/duckdb/duckdb-rows.ts');
  const sql = `SELECT max(__cursor) AS hwm FROM ${DIFF_TABLE}`;
  for await (const chunk of streamRows(workspace.connection, sql, [], 1, new AbortController().signal)) {
    return chunk.rows[0]?.hwm ?? null;
  }
  return null;
}

async function scalar(workspace: Workspace, sql: string): Promise<number> {
  const result = await workspace.connection.runAndReadAll(sql);
  return Number(result.getRows()[0][0]);
}
