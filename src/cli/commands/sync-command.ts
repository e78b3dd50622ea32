import { runSync } from '../../engine/run-sync.ts';
import { ConfigError } from '../../errors.ts';
import { formatCount, formatDuration } from '../../engine/trace-format.ts';
import type { RunSummary } from '../../state/run-record.ts';
import type { CliEnv } from '../cli-env.ts';
import { exitCodeOf } from '../exit-codes.ts';
import { progressDisplay } from '../progress-display.ts';
import { refusePaused } from './pause-command.ts';

export interface SyncFlags {
  fullResync?: boolean;
  dryRun?: boolean;
  retryRejected?: boolean;
  /** Hand the run to the distributed mode's workers. */
  queue?: boolean;
}

/** `lastmile sync SYNC`: one run, live progress on a terminal, the summary last. */
export async function syncCommand(env: CliEnv, syncName: string, flags: SyncFlags): Promise<number> {
  const paused = flags.dryRun ? undefined : await refusePaused(env, syncName);
  if (paused !== undefined) return paused;
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted (SIGINT/SIGTERM)'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const display = env.json ? { update() {}, done() {} } : progressDisplay();
  try {
    if (flags.queue && flags.dryRun) throw new ConfigError('--queue and --dry-run do not go together: a dry run writes nothing, run it here');
    const summary = flags.queue
      ? await (await import('../../worker/enqueue-run.ts')).enqueueRun(env.project, syncName, { trigger: 'cli', fullResync: flags.fullResync, retryRejected: flags.retryRejected, signal: controller.signal })
      : await runSync({ project: env.project, store: env.store }, syncName, {
        trigger: 'cli', fullResync: flags.fullResync, dryRun: flags.dryRun, retryRejected: flags.retryRejected,
        signal: controller.signal, onProgress: (p) => display.update(p),
      });
    display.done();
    if (env.json) env.emit(summary);
    else env.say(describeSummary(summary));
    return exitCodeOf(summary.status);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function describeSummary(s: RunSummary): string {
  const lines = [
    `${s.dryRun ? 'dry run' : 'run'} ${s.runId}  ${s.sync}  ${s.status.toUpperCase()}  ${formatDuration(s.durationMs)}`,
    `  fetched ${formatCount(s.fetched)}  added ${formatCount(s.added)}  changed ${formatCount(s.changed)}  removed ${formatCount(s.removed)}  unchanged ${formatCount(s.unchanged)}`,
  ];
  if (!s.dryRun) {
    lines.push(`  to sync ${formatCount(s.toSync)} = delivered ${formatCount(s.delivered)} + rejected ${formatCount(s.rejected)} + deferred ${formatCount(s.deferred)} + skipped ${formatCount(s.skipped)}`);
    lines.push(`  api calls ${formatCount(s.apiCalls)}  retries ${formatCount(s.retries)}  throttled ${formatCount(s.throttled)}`);
  }
  if (s.error) lines.push(`  ${s.status === 'partial' ? 'stopped early' : 'error'}: ${s.error}`);
  const parked = s.rejected - s.rejectedRetryable;
  if (parked) lines.push(`  ${formatCount(parked)} rejected rows are parked until they change (or --retry-rejected); see them with: lastmile runs show ${s.runId}`);
  if (s.rejectedRetryable) lines.push(`  ${formatCount(s.rejectedRetryable)} rejected rows are sent again next run`);
  if (s.deferred) lines.push(`  ${formatCount(s.deferred)} deferred rows are sent next run`);
  return lines.join('\n');
}
