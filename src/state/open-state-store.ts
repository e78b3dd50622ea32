import type { StateStore } from './state-store.ts';
import type { LockTiming } from './lock-holder.ts';
import { secretRedactor, type Redactor } from '../config/redact.ts';
import type { Project } from '../config/project.ts';
import { POSTGRES_URL } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { EmbeddedStateStore } from './embedded/embedded-state-store.ts';
import { PostgresStateStore } from './postgres/postgres-state-store.ts';

export interface OpenStateOptions {
  /** Lock heartbeat and staleness (tests shorten them). */
  lock?: Partial<LockTiming>;
  /** Applied to run summaries, trace lines and rejected rows before they are stored. */
  redact?: Redactor;
}

/**
 * `state:` from lastmile.yml. A `postgres://` or `postgresql://` URL opens the shared Postgres
 * store (tables in schema `lastmile`, or the URL's `?schema=` parameter); anything else is the
 * folder of the embedded store (usually `.lastmile`, resolved by the config loader).
 */
export async function openStateStore(state: string, options: OpenStateOptions = {}): Promise<StateStore> {
  if (POSTGRES_URL.test(state)) return PostgresStateStore.open(state, options);
  return new EmbeddedStateStore(state, options);
}

/**
 * The state store of a project, storing nothing with one of its secrets in it. A `state:`
 * that cannot work (a folder that cannot be created) is a ConfigError at its line.
 */
export async function openProjectState(project: Project, options: OpenStateOptions = {}): Promise<StateStore> {
  try {
    return await openStateStore(project.state, { redact: secretRedactor(project.secrets), ...options });
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.message, project.stateLocation);
    throw error;
  }
}
