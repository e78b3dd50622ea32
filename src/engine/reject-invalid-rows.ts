import { streamRows } from '../sources/duckdb/duckdb-rows.ts';
import { DIFF_TABLE, DUPLICATE_KEYS_TABLE } from '../diff/compute-diff.ts';
import type { DiffSession } from './diff-session.ts';
import type { RunRecorder } from './run-recorder.ts';

/**
 * Rows whose primary key is null or appears more than once are rejected alone, with the
 * reason; they come back every run until the model is fixed (a duplicated key's state is kept).
 */
export async function rejectInvalidRows(session: DiffSession, primaryKey: string[], recorder: RunRecorder, signal: AbortSignal): Promise<void> {
  if (session.counts.invalid === 0) return;
  const keyName = primaryKey.join(', ');
  const field = keyName;
  const sql = `SELECT key, copies FROM ${DUPLICATE_KEYS_TABLE}
               UNION ALL SELECT NULL, __model_rows - __prev_rows FROM ${DIFF_TABLE} WHERE __key IS NULL AND __model_rows > __prev_rows`;
  for await (const chunk of streamRows(session.workspace.connection, sql, [], 1_000, signal)) {
    for (const row of chunk.rows) {
      const copies = Number(row.copies);
      const nullKey = row.key === null;
      const message = nullKey
        ? `primary key (${keyName}) is null: the row cannot be tracked`
        : `primary key (${keyName}) appears ${copies} times in the model: none of these rows is sent until it is unique`;
      await recorder.reject(Array.from({ length: copies }, (_, i) => ({
        key: nullKey ? `(null key #${i + 1})` : String(row.key),
        rejection: { category: 'invalid_row' as const, field, message, retryable: true },
      })));
    }
  }
}
