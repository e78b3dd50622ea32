import { formatCount, formatDuration, formatTrace } from '../../engine/trace-format.ts';
import type { CliEnv } from '../cli-env.ts';
import { describeFreshness } from '../../engine/freshness.ts';
import { describeLatency } from '../../engine/latency.ts';
import { EXIT } from '../exit-codes.ts';
import { foldBatchLines } from '../../engine/fold-batch-lines.ts';

/** `lastmile runs [SYNC]`: run history, newest first. */
export async function runsCommand(env: CliEnv, syncName: string | undefined, limit: number): Promise<number> {
  await env.store.abandonDeadRuns();
  const runs = await env.store.listRuns({ sync: syncName, limit });
  if (env.json) {
    env.emit(runs);
    return 0;
  }
  if (runs.length === 0) {
    env.say(syncName ? `no runs of ${syncName} yet` : 'no runs yet');
    return 0;
  }
  env.say(['run id'.padEnd(26) + 'sync'.padEnd(24) + 'status'.padEnd(11) + 'started'.padEnd(21) + 'duration'.padStart(9) + 'delivered'.padStart(11) + 'rejected'.padStart(10)]
    .concat(runs.map((r) =>
      r.runId.padEnd(26) + r.sync.padEnd(24) + r.status.padEnd(11) + r.startedAt.slice(0, 19).replace('T', ' ').padEnd(21) +
      formatDuration(r.durationMs).padStart(9) + formatCount(r.delivered).padStart(11) + formatCount(r.rejected).padStart(10)))
    .join('\n'));
  return 0;
}

/** `lastmile runs show RUN_ID`: one run's trace and its rejected rows with reasons. */
export async function runShowCommand(env: CliEnv, runId: string, rejectedLimit: number, allBatches = false): Promise<number> {
  const run = await env.store.getRun(runId);
  if (!run) {
    env.log(`no run with id ${runId}; list them with: lastmile runs`);
    return EXIT.usage;
  }
  const rejected = await env.store.listRejected(runId, { limit: rejectedLimit });
  const byCategory = await env.store.rejectedByCategory(runId);
  if (env.json) {
    env.emit({ ...run, rejectedByCategory: byCategory, rejected });
    return 0;
  }
  const { summary: s, profile: p } = run;
  const lines = [
    `run ${s.runId}  ${s.sync}  ${s.status.toUpperCase()}`,
    `  ${p.source} (${p.sourceType}) · ${p.model} → ${p.destination} (${p.destinationType}) · ${p.syncModeLabel}${p.diff ? ` · diff: ${p.diff}` : ''} · triggered by ${p.trigger}`,
    ...(s.freshness ? [`  freshness: ${describeFreshness(s.freshness)}${s.freshness.stale ? '  STALE' : ''}`] : []),
    ...(s.latency ? [`  latency: ${describeLatency(s.latency)}`] : []),
    '',
    formatTrace(allBatches ? run.trace : foldBatchLines(run.trace), p.source),
  ];
  if (rejected.total) {
    lines.push('', `rejected rows: ${formatCount(rejected.total)}  (${Object.entries(byCategory).map(([c, n]) => `${c} ${formatCount(n ?? 0)}`).join(', ')})`);
    for (const r of rejected.rows) {
      const where = [r.field && `field ${r.field}`, r.code].filter(Boolean).join(', ');
      lines.push(`  ${r.key}  ${r.category}${where ? ` (${where})` : ''}: ${r.message}`);
    }
    if (rejected.total > rejected.rows.length) lines.push(`  … ${formatCount(rejected.total - rejected.rows.length)} more (--limit, or --json)`);
  }
  env.say(lines.join('\n'));
  return 0;
}
