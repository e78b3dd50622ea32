import type { Project } from '../config/project.ts';
import { outcomeCounts } from '../engine/finalize-run.ts';
import { formatDuration } from '../engine/trace-format.ts';
import type { RunSummary } from '../state/run-record.ts';
import type { StateStore } from '../state/state-store.ts';
import type { LedgerRun, RunLedger } from './run-ledger.ts';

/**
 * Step 4 of a distributed run, done by whichever worker settled the last batch (or by the one
 * that diffed, when every batch had settled before it wrote the last): the counts of every
 * worker added up, the state compacted, the cursor moved when nothing waits, the run closed.
 * The ledger lets one caller only through.
 */
export async function finalizeDistributedRun(project: Project, store: StateStore, ledger: RunLedger, runId: string): Promise<RunSummary | undefined> {
  if (!(await ledger.conclude(runId, 'finalized'))) return undefined;
  const run = (await ledger.getRun(runId))!;
  const summary = summaryOf(run);
  await store.compactRowState(run.sync);
  const model = project.models[project.syncs[run.sync]?.model ?? ''];
  if (model?.cursor && summary.rejectedRetryable === 0 && summary.deferred === 0) await store.setCursor(run.sync, run.highWaterMark);
  summary.status = summary.rejected > 0 || summary.deferred > 0 ? 'partial' : 'success';
  summary.finishedAt = new Date().toISOString();
  summary.durationMs = Date.now() - Date.parse(summary.startedAt);
  await store.appendTrace(runId, [{
    at: summary.finishedAt, step: 4,
    text: `status: ${summary.status.toUpperCase()}  ${outcomeCounts(summary, summary.deferred)}  duration: ${formatDuration(summary.durationMs)}  (finalized by pid ${process.pid})`,
  }]);
  await ledger.setFinal(runId, summary);
  await store.saveRun({ summary, profile: run.profile });
  return summary;
}

/** The run's summary with every worker's counts so far (still `running` until finalized). */
export function summaryOf(run: LedgerRun): RunSummary {
  const s: RunSummary = { ...run.summary };
  const c = run.counts;
  s.delivered += c.delivered;
  s.rejected += c.rejected;
  s.rejectedRetryable += c.rejectedRetryable;
  s.skipped += c.skipped;
  s.apiCalls += c.apiCalls;
  s.retries += c.retries;
  s.throttled += c.throttled;
  s.deferred = Math.max(0, s.toSync - s.delivered - s.rejected - s.skipped);
  return s;
}
