import type { Diff } from '../diff/diff.ts';
import type { RunRecorder } from './run-recorder.ts';

/**
 * Rows whose primary key is null or appears more than once are rejected alone, with the
 * reason; they come back every run until the model is fixed (a duplicated key's state is kept).
 */
export async function rejectInvalidRows(diff: Diff, primaryKey: string[], recorder: RunRecorder, signal: AbortSignal): Promise<void> {
  const field = primaryKey.join(', ');
  for await (const chunk of diff.invalidKeys(signal)) {
    for (const { key, copies } of chunk) {
      const message = key === null
        ? `primary key (${field}) is null: the row cannot be tracked`
        : `primary key (${field}) appears ${copies} times in the model: none of these rows is sent until it is unique`;
      await recorder.reject(Array.from({ length: copies }, (_, i) => ({
        key: key ?? `(null key #${i + 1})`,
        rejection: { category: 'invalid_row' as const, field, message, retryable: true },
      })));
    }
  }
}
