import { testRow, type TestRowResult } from '../../engine/test-row.ts';
import type { InspectedRequest } from '../../delivery/request-inspector.ts';
import { jsonReplacer, type CliEnv } from '../cli-env.ts';
import { EXIT } from '../exit-codes.ts';
import { ConfigError } from '../../errors.ts';
import type { SyncFlags } from './sync-command.ts';

/** `lastmile sync SYNC --only KEY`: one row through mapping and delivery, its requests and answers shown. */
export async function testRowCommand(env: CliEnv, syncName: string, key: string, flags: SyncFlags = {}): Promise<number> {
  const others = (['fullResync', 'dryRun', 'retryRejected', 'queue'] as const).filter((flag) => flags[flag]);
  if (others.length) throw new ConfigError(`--only sends one row now, as it is: it does not go with ${others.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`);
  const controller = new AbortController();
  const stop = () => controller.abort(new Error('interrupted (SIGINT/SIGTERM)'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await testRow({ project: env.project, store: env.store }, syncName, key, { signal: controller.signal });
    if (env.json) env.emit(result);
    else env.say(describeTestRow(result));
    if (result.outcome === 'delivered' || result.outcome === 'not_sent') return EXIT.ok;
    return result.outcome === 'rejected' ? EXIT.rejected : EXIT.failed;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export function describeTestRow(r: TestRowResult): string {
  const state = r.stateUpdated
    ? r.outcome === 'delivered' ? 'state updated: the next run sends this row only if it changes' : 'state updated: the row is parked until it changes (or --retry-rejected)'
    : 'state unchanged: the next run decides for this row as before';
  const lines = [`sync ${r.sync}, row ${r.key}: ${r.operation ? `${r.operation} ` : ''}${r.outcome.toUpperCase().replace('_', ' ')}`];
  if (r.reason) lines.push(`  ${r.code ? `${r.code}: ` : ''}${r.reason}`);
  if (r.fields) lines.push(`  mapped fields: ${JSON.stringify(r.fields, jsonReplacer)}`);
  lines.push(`  ${state}`);
  if (r.requests.length === 0 && r.outcome !== 'not_sent') lines.push('  no request was sent');
  for (const request of r.requests) lines.push(...describeRequest(request));
  return lines.join('\n');
}

function describeRequest(r: InspectedRequest): string[] {
  // An entry without a status is a write that speaks no HTTP (SQL, queues): done, or its error.
  const answer = r.status !== undefined ? String(r.status) : r.error ? `failed (${r.error})` : 'done';
  const lines = [`  ${r.method} ${r.url} -> ${answer} in ${r.ms} ms`];
  if (r.requestHeaders) lines.push(`    headers:  ${Object.entries(r.requestHeaders).map(([name, value]) => `${name}: ${value}`).join(', ')}`);
  if (r.requestBody) lines.push(`    sent:     ${r.requestBody}`);
  if (r.responseBody) lines.push(`    answered: ${r.responseBody}`);
  return lines;
}
