import type { SyncConfig, SyncMode } from '../../src/config/project.ts';
import type { Change, Destination, RecordResult } from '../../src/destinations/destination.ts';
import type { DestinationType } from '../../src/destinations/registry.ts';
import type { Value } from '../../src/sources/source.ts';

/** A sync as the config loader would hand it over: match model columns to fields of the same name. */
export function makeSync(name: string, mode: SyncMode, match: string[], fields: string[], options: Record<string, unknown> = {}): SyncConfig {
  return {
    name,
    model: 'model',
    destination: 'dest',
    mode,
    match: Object.fromEntries(match.map((f) => [f, f])),
    mapping: Object.fromEntries(fields.filter((f) => !match.includes(f)).map((f) => [f, { kind: 'column' as const, column: f }])),
    options,
  };
}

/** Builds a destination through its type, as the engine does: settings validated by its schemas. */
export function createDestination(
  type: DestinationType,
  connection: Record<string, unknown>,
  sync: SyncConfig,
  name = 'dest',
): Destination {
  return type.create({
    connection: { name, type: type.type, ...(type.connection.parse(connection) as object) },
    options: type.syncOptions.parse(sync.options),
    sync,
    rootDir: process.cwd(),
  });
}

export { recordingContext } from '../helpers/write-context.ts';

/** A change whose match is taken from `fields` (keys named in `match`). */
export function change(op: Change['op'], key: string | number, match: string[], fields: Record<string, Value>): Change {
  return {
    key: String(key),
    op,
    match: Object.fromEntries(match.map((f) => [f, fields[f] ?? null])),
    fields: op === 'delete' ? {} : fields,
  };
}

export function outcomes(results: RecordResult[]): Record<string, string> {
  return Object.fromEntries(results.map((r) => [r.key, r.outcome === 'delivered' ? 'delivered' : `rejected:${r.rejection.category}`]));
}

/** Runs `fn` and returns the error it threw (fails when it does not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<any> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, none was thrown');
}
