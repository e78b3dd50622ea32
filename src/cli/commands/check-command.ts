import { createDestination, createSource, resolveSync } from '../../engine/resolve-sync.ts';
import type { CliEnv } from '../cli-env.ts';
import { dbtKeyWarnings } from '../../config/dbt/dbt-key-warnings.ts';
import { dbtModelNote } from '../../config/dbt/dbt-model-note.ts';

interface CheckResult { what: string; ok: boolean; message?: string }

/** `lastmile check`: the config loaded (or the command would not be here); now test every connection. */
export async function checkCommand(env: CliEnv): Promise<number> {
  const { project } = env;
  const signal = AbortSignal.timeout(30_000);
  const results: CheckResult[] = [];
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
      results.push({ what, ok: true });
    } catch (error) {
      results.push({ what, ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  };

  for (const config of Object.values(project.sources)) {
    await attempt(`source ${config.name} (${config.type})`, async () => {
      const source = createSource(project, config);
      try { await source.check(signal); } finally { await source.close(); }
    });
  }
  const checkedDestinations = new Set<string>();
  for (const sync of Object.values(project.syncs)) {
    if (checkedDestinations.has(sync.destination)) continue;
    checkedDestinations.add(sync.destination);
    const config = project.destinations[sync.destination];
    await attempt(`destination ${config.name} (${config.type})`, async () => {
      const destination = createDestination(project, resolveSync(project, sync.name));
      try { await destination.check(signal); } finally { await destination.close(); }
    });
  }
  const notes = Object.values(project.syncs).flatMap((sync) => {
    const model = project.models[sync.model];
    return model.cursor
      ? [`sync ${sync.name}: model ${model.name} reads incrementally by ${model.cursor}; rows removed from the model are not detected`]
      : [];
  }).concat(Object.values(project.models).flatMap(dbtModelNote));
  const warnings = Object.values(project.models).flatMap(dbtKeyWarnings);

  if (env.json) {
    env.emit({ config: project.configPath, ok: results.every((r) => r.ok), checks: results, notes, warnings });
  } else {
    env.say(`config ${project.configPath}: valid (${Object.keys(project.syncs).length} syncs)`);
    for (const r of results) env.say(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.what}${r.message ? `: ${r.message}` : ''}`);
    for (const note of notes) env.say(`  note: ${note}`);
    for (const warning of warnings) env.say(`  warning: ${warning}`);
  }
  return results.every((r) => r.ok) ? 0 : 1;
}
