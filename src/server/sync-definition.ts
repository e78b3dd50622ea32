import path from 'node:path';
import type { FieldMapping, Project, SyncConfig } from '../config/project.ts';
import { scheduleLabel } from './sync-overview.ts';

/** What a sync is made of, as its config says: the sync page's "Definition" card. */
export interface SyncDefinition {
  name: string;
  model: {
    name: string; source: string; sourceType: string;
    sql?: string; table?: string; dbt?: string;
    primaryKey: string[]; cursor?: string;
  };
  destination: { name: string; type: string };
  mode: string;
  /** model column -> destination identifier field */
  match: Record<string, string>;
  /** destination field <- a column, a fixed value or a template */
  mapping: { field: string; from: 'column' | 'static' | 'template'; value: string }[];
  schedule: string | null;
  after: string[];
  /** Destination settings written on the sync (object, table, subject…). */
  options: Record<string, unknown>;
  /** Where the sync is written, e.g. lastmile.yml:42. */
  location: string | null;
}

export function syncDefinition(project: Project, sync: SyncConfig): SyncDefinition {
  const model = project.models[sync.model];
  const source = model ? project.sources[model.source] : undefined;
  const destination = project.destinations[sync.destination];
  return {
    name: sync.name,
    model: {
      name: sync.model, source: model?.source ?? '', sourceType: source?.type ?? '',
      ...(model?.sql !== undefined ? { sql: model.sql } : {}),
      ...(model?.table !== undefined ? { table: model.table } : {}),
      ...(model?.dbt ? { dbt: model.dbt.uniqueId } : {}),
      primaryKey: model?.primaryKey ?? [],
      ...(model?.cursor ? { cursor: model.cursor } : {}),
    },
    destination: { name: sync.destination, type: destination?.type ?? '' },
    mode: sync.mode,
    match: sync.match,
    mapping: Object.entries(sync.mapping).map(([field, how]) => ({ field, ...mappingSource(how) })),
    schedule: scheduleLabel(sync),
    after: sync.after ?? [],
    options: sync.options,
    location: sync.location ? `${path.relative(project.rootDir, sync.location.file) || sync.location.file}${sync.location.line ? `:${sync.location.line}` : ''}` : null,
  };
}

function mappingSource(how: FieldMapping): { from: 'column' | 'static' | 'template'; value: string } {
  switch (how.kind) {
    case 'column': return { from: 'column', value: how.column };
    case 'static': return { from: 'static', value: JSON.stringify(how.value) };
    case 'template': return { from: 'template', value: how.template };
  }
}
