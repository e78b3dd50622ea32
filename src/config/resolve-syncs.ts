import type { z } from 'zod';
import type { FieldMapping, LogsConfig, ModelConfig, Schedule, SyncConfig } from './project.ts';
import type { DestinationType } from '../destinations/registry.ts';
import type { Checker } from './checker.ts';
import { SYNC_KEYS, type RawProject } from './schema.ts';
import { parseDuration } from './duration.ts';
import { strictKeys, strictSettings } from './strict-settings.ts';
import { unknownKey } from './issue-messages.ts';
import { compileTemplate } from '../mapping/template.ts';
import { NO_WAREHOUSE_DIFF, SQL_DIFF_SOURCES } from '../diff/diff-method.ts';
import { resolveDbtModel } from './dbt/resolve-dbt-model.ts';
import type { Manifest, ManifestError } from './dbt/dbt-manifest.ts';

type RawModel = z.output<typeof import('./schema.ts').modelSchema>;
type RawSync = RawProject['syncs'][string];

export function resolveModels(raw: RawProject, check: Checker, rootDir: string): Record<string, ModelConfig> {
  const models: Record<string, ModelConfig> = {};
  const manifests = new Map<string, Manifest | ManifestError>();
  for (const [name, model] of Object.entries(raw.models) as [string, RawModel][]) {
    const primaryKey = typeof model.primaryKey === 'string' ? [model.primaryKey] : model.primaryKey;
    const dbt = model.dbt && resolveDbtModel(name, model.dbt, primaryKey, rootDir, check, manifests);
    if (model.dbt && !dbt) continue;
    if (!(model.source in raw.sources)) check.fail(unknown('source', model.source, raw.sources), ['models', name, 'source']);
    const source = raw.sources[model.source];
    const method = model.diff ?? (source?.diff as string | undefined);
    if (source && method && method !== 'workspace' && !(SQL_DIFF_SOURCES as readonly string[]).includes(source.type)) {
      check.fail(
        `diff: ${method} runs the diff inside the source's database, which source "${model.source}" (${source.type}) cannot do; ` +
          `use diff: workspace, or a ${SQL_DIFF_SOURCES.join(' or ')} source`,
        ['models', name, model.diff ? 'diff' : 'source'],
      );
    } else if (source && method === 'warehouse' && NO_WAREHOUSE_DIFF[source.type]) {
      check.fail(`diff: warehouse is not available for source "${model.source}" (${source.type}): ${NO_WAREHOUSE_DIFF[source.type]}`,
        ['models', name, model.diff ? 'diff' : 'source']);
    }
    const { file, line } = check.where(['models', name]);
    const lines: Record<string, number> = {};
    for (const key of ['primaryKey', 'cursor', 'freshness', 'eventTime']) {
      const found = key in model ? check.where(['models', name, key]).line : undefined;
      if (found) lines[key] = found;
    }
    models[name] = {
      name,
      source: model.source,
      ...(model.sql !== undefined && { sql: model.sql }),
      ...(model.table !== undefined && { table: model.table }),
      primaryKey: primaryKey ?? [],
      ...dbt,
      ...(model.cursor !== undefined && { cursor: model.cursor }),
      ...(model.diff !== undefined && { diff: model.diff }),
      ...(model.freshness !== undefined && { freshness: { column: model.freshness.column, maxAgeMs: model.freshness.maxAge } }),
      ...(model.eventTime !== undefined && { eventTime: model.eventTime }),
      location: { file, line, lines },
    };
  }
  return models;
}

/** Sync logs go into a source the engine can write to: DuckDB or Postgres. */
export function resolveLogs(raw: RawProject, check: Checker): LogsConfig | undefined {
  if (!raw.logs) return undefined;
  const { source, schema, retention } = raw.logs;
  const entry = raw.sources[source];
  if (!entry) check.fail(unknown('source', source, raw.sources), ['logs', 'source']);
  else if (entry.type !== 'duckdb' && entry.type !== 'postgres') {
    check.fail(`sync logs are written into a duckdb or postgres source; source "${source}" is ${entry.type}`, ['logs', 'source']);
  } else if (entry.type === 'duckdb' && entry.path === ':memory:') {
    check.fail(`sync logs need a DuckDB file to stay in; source "${source}" is :memory:`, ['logs', 'source']);
  }
  return { source, schema, ...(retention !== undefined && { retentionMs: retention }) };
}

export function resolveSyncs(
  raw: RawProject,
  models: Record<string, ModelConfig>,
  destinationTypes: Record<string, DestinationType>,
  check: Checker,
): Record<string, SyncConfig> {
  const syncs: Record<string, SyncConfig> = {};
  for (const [name, sync] of Object.entries(raw.syncs) as [string, RawSync][]) {
    const { model, destination, mode, match = {}, mapping = {}, schedule, after, maxDeletePercent, events, freshness, ...extra } = sync;
    const at = (...field: (string | number)[]) => ['syncs', name, ...field];
    const lines: Record<string, number> = {};
    const remember = (key: string, ...field: string[]) => {
      const { line } = check.where(at(...field));
      if (line) lines[key] = line;
    };
    for (const column of Object.keys(match)) remember(`match.${column}`, 'match', column);

    if (!(model in raw.models)) check.fail(unknown('model', model, raw.models), at('model'));
    const destinationEntry = raw.destinations[destination];
    if (!destinationEntry) check.fail(unknown('destination', destination, raw.destinations), at('destination'));

    const destinationType = destinationEntry && destinationTypes[destinationEntry.type];
    const options = destinationType ? parseOptions(extra, destinationType, check, at()) : extra;

    if (mode !== 'insert' && Object.keys(match).length === 0) {
      check.fail(`mode ${mode} needs a match key to find records in the destination: match: { model_column: destination_field }`, at('match'));
    }
    const cursor = models[model]?.cursor;
    if (mode === 'mirror' && cursor) {
      check.fail(`mode mirror cannot read model "${model}" incrementally (cursor: ${cursor}): rows that left the model cannot be seen in a partial read; remove the model's cursor, or use mode upsert`, at('mode'));
    }
    if (freshness !== undefined && !models[model]?.freshness) {
      check.fail(`freshness.onStale needs model "${model}" to declare freshness: { column, maxAge }`, at('freshness'));
    }
    if (maxDeletePercent !== undefined && mode !== 'mirror') {
      check.fail(`maxDeletePercent applies to mode mirror only (this sync's mode is ${mode})`, at('maxDeletePercent'));
    }

    const fields = resolveMapping(
      mapping,
      match,
      (message, key) => check.fail(message, at('mapping', key)),
      (field, key) => remember(`mapping.${field}`, 'mapping', key),
    );

    const { file, line } = check.where(at());
    syncs[name] = {
      name,
      model,
      destination,
      mode,
      match,
      mapping: fields,
      ...(schedule && { schedule: resolveSchedule(schedule) }),
      ...(after !== undefined && { after: typeof after === 'string' ? [after] : after }),
      ...(maxDeletePercent !== undefined && { maxDeletePercent }),
      ...(events !== undefined && { events }),
      ...(freshness !== undefined && { onStale: freshness.onStale }),
      options: (options ?? {}) as Record<string, unknown>,
      location: { file, line, lines },
    };
  }
  checkAfter(syncs, check);
  return syncs;
}

/**
 * A sync's other keys belong to its destination's type. An unknown one is named with every key
 * the sync accepts, so `mdoe:` gets "did you mean mode?" rather than a list of Salesforce options.
 */
function parseOptions(extra: Record<string, unknown>, type: DestinationType, check: Checker, at: (string | number)[]): unknown {
  const schema = strictSettings(type.syncOptions);
  const optionKeys = strictKeys(schema);
  const known = { ...extra };
  if (optionKeys) {
    for (const key of Object.keys(known).filter((key) => !optionKeys.includes(key))) {
      check.fail(unknownKey(key, [...SYNC_KEYS, ...optionKeys]), [...at, key]);
      delete known[key];
    }
  }
  return check.parse(schema, known, at);
}

/** `col: field` renames, `field: { static }` and `field: { template }`, keyed by destination field. */
function resolveMapping(
  mapping: Record<string, string | { static?: unknown } | { template: string }>,
  match: Record<string, string>,
  fail: (message: string, key: string) => void,
  remember: (field: string, key: string) => void,
): Record<string, FieldMapping> {
  const fields: Record<string, FieldMapping> = {};
  const writtenBy: Record<string, string> = {};
  const matchColumn = Object.fromEntries(Object.entries(match).map(([column, field]) => [field, column]));
  for (const [key, entry] of Object.entries(mapping)) {
    let field: string;
    let how: FieldMapping;
    if (typeof entry === 'string') {
      field = entry;
      how = { kind: 'column', column: key };
    } else if ('template' in entry) {
      field = key;
      how = { kind: 'template', template: entry.template };
      try {
        compileTemplate(entry.template);
      } catch (error) {
        fail(`not a valid Liquid template: ${(error as Error).message}`, key);
        continue;
      }
    } else {
      field = key;
      how = { kind: 'static', value: entry.static };
    }
    if (field in matchColumn) {
      // `email: email` next to `match: { email: email }` says the same thing twice: fine.
      if (how.kind !== 'column' || how.column !== matchColumn[field]) {
        fail(`destination field "${field}" is the match identifier (from column "${matchColumn[field]}"): it cannot also be mapped here`, key);
      }
      continue;
    }
    if (field in writtenBy) {
      fail(`destination field "${field}" is written twice (by "${writtenBy[field]}" and "${key}"): keep one`, key);
      continue;
    }
    writtenBy[field] = key;
    fields[field] = how;
    remember(field, key);
  }
  return fields;
}

function resolveSchedule(schedule: { every?: string; cron?: string }): Schedule {
  return schedule.every !== undefined ? { every: schedule.every, everyMs: parseDuration(schedule.every)! } : { cron: schedule.cron! };
}

/** `after` must name other syncs, and never wait in a circle. */
function checkAfter(syncs: Record<string, SyncConfig>, check: Checker): void {
  for (const sync of Object.values(syncs)) {
    sync.after?.forEach((other, index) => {
      if (other === sync.name) check.fail(`a sync cannot run after itself`, ['syncs', sync.name, 'after', index]);
      else if (!(other in syncs)) check.fail(unknown('sync', other, syncs), ['syncs', sync.name, 'after', index]);
    });
  }
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    if (done.has(name)) return;
    const loop = trail.indexOf(name);
    if (loop >= 0) {
      const circle = [...trail.slice(loop), name];
      if (circle.length > 2) check.fail(`syncs wait for each other in a circle (${circle.join(' -> ')}): remove one of these "after"`, ['syncs', name, 'after']);
      return;
    }
    for (const other of syncs[name]?.after ?? []) if (other !== name) visit(other, [...trail, name]);
    done.add(name);
  };
  for (const name of Object.keys(syncs)) visit(name, []);
}

function unknown(kind: string, name: string, defined: Record<string, unknown>): string {
  const names = Object.keys(defined);
  return `unknown ${kind} "${name}": ${names.length ? `defined ${kind}s are ${names.join(', ')}` : `no ${kind}s are defined`}`;
}
