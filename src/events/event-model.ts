import type { Project } from '../config/project.ts';
import type { Column } from '../sources/source.ts';
import type { Destination, FieldSpec } from '../destinations/destination.ts';
import { validateColumns } from '../config/load-project.ts';
import { ConfigError } from '../errors.ts';
import { createMapper, type Mapper } from '../mapping/mapper.ts';
import { rowFingerprinter } from '../diff/fingerprint/fingerprint-v1.ts';
import { createSource, type ResolvedSync } from '../engine/resolve-sync.ts';
import type { EventColumns } from './event-row.ts';
import type { Row } from '../sources/source.ts';

/** What the event path needs of a sync, learned once: the model's columns, the mapping, the fingerprint. */
export interface EventModel extends EventColumns {
  mapper: Mapper;
  /** Recipe v1 over the columns and signature a warehouse diff of this sync uses. */
  fingerprint(row: Row): string;
}

/**
 * Asks the source for the model's columns and types (a query that returns no row), and builds
 * the mapping and fingerprint exactly as a run's diff session does, so an event and a run agree
 * on every row's fingerprint.
 */
export async function learnEventModel(project: Project, resolved: ResolvedSync, destination: Destination, signal: AbortSignal): Promise<EventModel> {
  const { sync, model } = resolved;
  const source = createSource(project, resolved.sourceConfig);
  let columns: Column[] | undefined;
  try {
    const base = model.sql ?? source.tableQuery(model.table!);
    for await (const chunk of source.read(`SELECT * FROM (${base}) AS lastmile_model WHERE 1 = 0`, { chunkSize: 1, signal })) {
      columns = chunk.columns;
      break;
    }
  } finally {
    await source.close();
  }
  if (!columns) throw new ConfigError(`sync "${sync.name}": model "${model.name}" gave no columns`, sync.location);
  const names = columns.map((c) => c.name);
  validateColumns(project, sync.name, names);
  const orderBy = sync.events?.orderBy;
  if (orderBy && !names.includes(orderBy)) {
    throw new ConfigError(`sync "${sync.name}": events.orderBy names column "${orderBy}", which model "${model.name}" does not have (columns: ${names.join(', ')})`, sync.location);
  }
  // As openDiffSession: the fingerprint ignores the destination's field types; the mapping coerces to them.
  const plain = createMapper(sync, undefined, names);
  const byName = new Map(columns.map((c) => [c.name, c]));
  const fingerprint = rowFingerprinter(plain.signature, plain.columns.map((name) => byName.get(name)!));
  const fields: FieldSpec[] | undefined = destination.describe ? await destination.describe(signal) : undefined;
  const mapper = createMapper(sync, fields, names);
  const required = [...new Set([...plain.columns, ...(orderBy ? [orderBy] : [])])];
  return { columns, primaryKey: model.primaryKey, required, mapper, fingerprint };
}
