import { DuckdbLogWriter } from '../../src/logs/duckdb-log-writer.ts';
import { ChangeColumns } from '../../src/logs/change-columns.ts';
import { emptySummary } from '../../src/state/run-record.ts';

/** `rows` delivered rows of run `runId`, keyed `runId/0`, `runId/1`…, each with an L of a second. */
export function settledRows(runId: string, rows: number): ChangeColumns {
  const changes = new ChangeColumns(rows);
  const settledAt = Date.parse('2026-12-02T10:00:00Z');
  for (let i = 0; i < rows; i++) changes.push({ key: `${runId}/${i}`, op: 'upsert', outcome: 'delivered', eventAt: settledAt - 1_000, latencyMs: 1_000 }, settledAt);
  return changes;
}

/** Writes run `runId`'s settled rows into the DuckDB `file`, as a run's SyncLogs does once its delivery has ended. */
export async function writeRun(file: string, runId: string, changes: ChangeColumns): Promise<void> {
  const writer = new DuckdbLogWriter(file, 'lastmile_logs', { runId, sync: 'prices_sync' });
  try {
    await writer.open();
    await writer.begin([changes]);
    await writer.write({ summary: { ...emptySummary('prices_sync', runId, '2026-12-02T09:59:00Z'), status: 'success', delivered: changes.size }, rejections: [] });
  } finally {
    await writer.close();
  }
}
