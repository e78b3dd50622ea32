import type { SyncMode } from '../../../src/config/project.ts';
import type { Destination } from '../../../src/destinations/destination.ts';
import { httpRequestDestinationType } from '../../../src/destinations/http-request/http-request-type.ts';
import { makeSync } from '../destination-test-kit.ts';

/** An http-request destination from a shipped preset, for a sync matching on `match` and writing `fields`. */
export function presetDestination(
  preset: string,
  settings: Record<string, string | number | boolean>,
  mode: SyncMode,
  match: string,
  fields: string[],
  overrides: Record<string, unknown> = {},
): Destination {
  const connection = httpRequestDestinationType.connection.parse({ preset, settings, ...overrides });
  return httpRequestDestinationType.create({
    connection: { name: preset, type: 'http-request', ...connection },
    options: {},
    sync: makeSync(`${preset}_${mode}`, mode, [match], [match, ...fields]),
    rootDir: process.cwd(),
  });
}
