import path from 'node:path';
import type { Project } from '../../config/project.ts';
import { loadProject, validateColumns } from '../../config/load-project.ts';
import { eachError, messageOnly } from '../../config/config-errors.ts';
import { secretRedactor } from '../../config/redact.ts';
import { createMapper } from '../../mapping/mapper.ts';
import { describeModel, modelQueryMessage } from '../../sources/describe-model.ts';
import type { Column } from '../../sources/source.ts';
import { createDestination, createSource, resolveSync } from '../../engine/resolve-sync.ts';
import { ConfigError } from '../../errors.ts';
import { EXIT } from '../exit-codes.ts';
import { jsonReplacer, type GlobalOptions } from '../cli-env.ts';
import { plural } from '../plural.ts';
import { dbtKeyWarnings } from '../../config/dbt/dbt-key-warnings.ts';
import { dbtModelNote } from '../../config/dbt/dbt-model-note.ts';

/** config: the file itself; connection: a source or destination answered; model: a query and the columns syncs name. */
type Stage = 'config' | 'connection' | 'model';

interface CheckError { stage: Stage; message: string; file?: string; line?: number; field?: string }
interface CheckPassed { stage: Stage; what: string; detail?: string }

/**
 * `lastmile check`: everything a run would find wrong before it sends anything. The config,
 * every connection, then each model's query run with no rows, its columns validated against
 * primaryKey, cursor, match and mapping as a run validates them. Every error of every stage is
 * reported in one go (stderr, or JSON on stdout under --json). Exit 64 for a mistake in the
 * project (config or model), 1 when only a connection failed, 0 when all is well.
 */
export async function checkCommand(options: GlobalOptions): Promise<number> {
  const configPath = path.resolve(options.config);
  const errors: CheckError[] = [];
  const passed: CheckPassed[] = [];
  const notes: string[] = [];
  const warnings: string[] = [];
  const configError = (error: ConfigError, stage: Stage) => {
    for (const one of eachError(error)) errors.push({ stage, message: messageOnly(one), ...one.location });
  };

  let project: Project | undefined;
  try {
    project = await loadProject(configPath);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    configError(error, 'config');
  }
  if (project) {
    if (Object.keys(project.syncs).length === 0) {
      errors.push({
        stage: 'config', file: path.relative(process.cwd(), project.configPath) || project.configPath,
        message: 'the project defines no syncs: a sync names a model and a destination (`lastmile init DIR` writes a working example)',
      });
    } else {
      passed.push({ stage: 'config', what: `config ${project.configPath}`, detail: summary(project) });
    }
    const reachable = await checkConnections(project, passed, errors);
    await checkModels(project, reachable, passed, errors, configError, notes);
    notes.push(...Object.values(project.models).flatMap(dbtModelNote));
    warnings.push(...Object.values(project.models).flatMap(dbtKeyWarnings));
  }

  const seen = new Set<string>();
  const unique = errors.filter((e) => !seen.has(located(e)) && !!seen.add(located(e)));
  errors.splice(0, errors.length, ...unique);
  const ok = errors.length === 0;
  const clean = secretRedactor(project?.secrets ?? []);
  if (options.json) {
    process.stdout.write(clean(JSON.stringify({ config: configPath, ok, errors, checks: passed, notes, warnings }, jsonReplacer)) + '\n');
  } else {
    for (const p of passed) process.stdout.write(clean(`ok   ${p.what}${p.detail ? `: ${p.detail}` : ''}`) + '\n');
    for (const note of notes) process.stdout.write(clean(`note ${note}`) + '\n');
    for (const warning of warnings) process.stdout.write(clean(`warning ${warning}`) + '\n');
    for (const e of errors) process.stderr.write(clean(`lastmile: ${located(e)}`) + '\n');
    if (!ok) process.stderr.write(`lastmile check: ${plural(errors.length, 'error')}; nothing was sent\n`);
  }
  if (ok) return 0;
  return errors.some((e) => e.stage !== 'connection') ? EXIT.usage : EXIT.failed;
}

/** Opens every source and every destination a sync uses; the names of the sources that answered. */
async function checkConnections(project: Project, passed: CheckPassed[], errors: CheckError[]): Promise<Set<string>> {
  const signal = AbortSignal.timeout(30_000);
  const reachable = new Set<string>();
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
      passed.push({ stage: 'connection', what });
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Connectors' messages name themselves (`source "warehouse": …`); others get the name here.
      errors.push({ stage: 'connection', message: /^(source|destination) "/.test(message) ? message : `${what}: ${message}` });
      return false;
    }
  };
  for (const config of Object.values(project.sources)) {
    const ok = await attempt(`source ${config.name} (${config.type})`, async () => {
      const source = createSource(project, config);
      try { await source.check(signal); } finally { await source.close(); }
    });
    if (ok) reachable.add(config.name);
  }
  const checked = new Set<string>();
  for (const sync of Object.values(project.syncs)) {
    if (checked.has(sync.destination)) continue;
    checked.add(sync.destination);
    const config = project.destinations[sync.destination];
    await attempt(`destination ${config.name} (${config.type})`, async () => {
      const destination = createDestination(project, resolveSync(project, sync.name));
      try { await destination.check(signal); } finally { await destination.close(); }
    });
  }
  return reachable;
}

/** Runs each model's query with no rows and validates every sync of it against its columns. */
async function checkModels(
  project: Project,
  reachable: Set<string>,
  passed: CheckPassed[],
  errors: CheckError[],
  configError: (error: ConfigError, stage: Stage) => void,
  notes: string[],
): Promise<void> {
  const signal = AbortSignal.timeout(60_000);
  for (const model of Object.values(project.models)) {
    if (!reachable.has(model.source)) {
      notes.push(`model ${model.name} not checked: its source ${model.source} did not answer`);
      continue;
    }
    let columns: Column[];
    const source = createSource(project, project.sources[model.source]);
    try {
      columns = await describeModel(source, model, signal);
    } catch (error) {
      const field = model.sql !== undefined ? 'sql' : 'table';
      errors.push({
        stage: 'model', file: model.location?.file, line: model.location?.line, field: `models.${model.name}.${field}`,
        message: modelQueryMessage(error instanceof Error ? error.message : String(error)),
      });
      continue;
    } finally {
      await source.close();
    }
    passed.push({ stage: 'model', what: `model ${model.name}`, detail: columns.map((c) => `${c.name} ${c.type}`).join(', ') });
    for (const sync of Object.values(project.syncs).filter((s) => s.model === model.name)) {
      try {
        const names = columns.map((c) => c.name);
        validateColumns(project, sync.name, names);
        createMapper(sync, undefined, names);
        passed.push({ stage: 'model', what: `sync ${sync.name}`, detail: `${sync.mode} into ${sync.destination}` });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        configError(error, 'model');
      }
      if (model.cursor) notes.push(`sync ${sync.name}: model ${model.name} reads incrementally by ${model.cursor}; rows removed from the model are not detected`);
    }
  }
}

function summary(project: Project): string {
  const count = (what: object, noun: string) => plural(Object.keys(what).length, noun);
  return `${count(project.syncs, 'sync')}, ${count(project.models, 'model')}, ${count(project.sources, 'source')}, ${count(project.destinations, 'destination')}`;
}

function located(error: CheckError): string {
  return new ConfigError(error.message, { file: error.file, line: error.line, field: error.field }).message;
}
