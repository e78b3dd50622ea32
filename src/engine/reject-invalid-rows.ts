import { streamRows } from '../sources/duckdb/duckdb-rows.ts';
import { INVALID_TABLE } from '../diff/compute-diff.ts';
import type { DiffSession } from './diff-session.ts';
import type { RunRecorder } from './run-recorder.ts';

/** Rows whose primary key is null or appears more than once are rejected alone, with the reason. */
export async function rejectInvalidRows(session: DiffSession, primaryKey: string[], recorder: RunRecorder, signal: AbortSignal): Promise<void> {
  if (session.counts.invalid === 0) return;
  const sql = `SELECT __key, count(*) OVER (PARTITION BY __key) AS __copies, row_number() OVER () AS __row FROM ${INVALID_TABLE}`;
  const keyName = primaryKey.join(', ');
  for await (const chunk of streamRows(session.workspace.connection, sql, [], 5_000, signal)) {
    await recorder.reject(chunk.rows.map((row) => {
      const nullKey = row.__key === null;
      return {
        key: nullKey ? `(null key, row ${row.__row})` : String(row.__key),
        rejection: {
          category: 'invalid_row' as const,
          field: keyName,
          message: nullKey
            ? `primary key (${keyName}) is null: the row cannot be tracked`
            : `primary key (${keyName}) appears ${row.__copies} times in the model: none of these rows is sent until it is unique`,
          retryable: true,
        },
      };
    }));
  }
}
