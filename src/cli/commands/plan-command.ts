import { planSync } from '../../engine/plan-sync.ts';
import { formatAge, formatCount, formatDuration } from '../../engine/trace-format.ts';
import { describeFreshness } from '../../engine/freshness.ts';
import type { CliEnv } from '../cli-env.ts';
import { plural } from '../plural.ts';

/** `lastmile plan SYNC`: what a run would send now, and how long it would take. Writes nothing. */
export async function planCommand(env: CliEnv, syncName: string): Promise<number> {
  const plan = await planSync({ project: env.project, store: env.store }, syncName);
  if (env.json) {
    env.emit(plan);
    return 0;
  }
  const width = Math.max(...[plan.added, plan.changed, plan.removed, plan.unchanged].map((n) => formatCount(n).length));
  const row = (label: string, n: number) => `  ${label.padEnd(10)} ${formatCount(n).padStart(width)}`;
  // Only mirror deletes: in the other modes a row that left the model stays in the destination.
  const kept = plan.mode !== 'mirror' && plan.removed > 0 ? `  (left the model; mode ${plan.mode} does not delete them)` : '';
  const lines = [
    `plan ${plan.sync} (${plan.mode}, diff: ${plan.diff})`,
    row('fetched', plan.fetched),
    row('added', plan.added), row('changed', plan.changed), row('removed', plan.removed) + kept, row('unchanged', plan.unchanged),
  ];
  if (plan.invalid) lines.push(row('invalid', plan.invalid));
  const batches = Math.ceil(plan.toSync / plan.batchSize);
  lines.push(plan.delivery === 'statements'
    ? `  to sync    ${plural(plan.toSync, 'row')} in ${plural(batches, 'batch', 'batches')} of up to ${formatCount(plan.batchSize)}, one transaction each`
    : `  to sync    ${plural(plan.toSync, 'row')} in ${plural(batches, 'request')} of up to ${formatCount(plan.batchSize)} ` +
      `at ${plan.requestsPerSecond} requests/s ≈ ${formatDuration(Math.round(plan.estimatedSeconds * 1000))}`);
  if (plan.freshness) {
    const verdict = plan.freshness.stale ? 'STALE: a run would stop before sending (stale_data)' : 'fresh';
    lines.push(`  freshness  ${describeFreshness(plan.freshness)}: ${verdict}`);
  }
  if (plan.latency) {
    const { column, newestAgeMs, syncMs, estimatedMs } = plan.latency;
    lines.push(estimatedMs === null || newestAgeMs === null
      ? `  latency    no row has a ${column}: L cannot be estimated`
      : `  latency    estimated L ≈ ${formatAge(estimatedMs)} (newest ${column} ${formatAge(newestAgeMs)} old + sync ${formatAge(syncMs)})`);
  }
  for (const note of plan.notes) lines.push(`  note: ${note}`);
  for (const kind of ['added', 'changed', 'removed'] as const) {
    if (plan.samples[kind].length === 0) continue;
    lines.push(`  sample of ${kind}${kind === 'removed' && plan.mode !== 'mirror' ? ' (kept in the destination)' : ''}:`);
    for (const sample of plan.samples[kind]) lines.push(`    ${JSON.stringify(sample, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
  }
  env.say(lines.join('\n'));
  return 0;
}
