import type { StateStore } from './state-store.ts';
import type { LockTiming } from './lock-holder.ts';
import type { Redactor } from '../config/redact.ts';
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
  if (/^postgres(ql)?:\/\//i.test(state)) return PostgresStateStore.open(state, options);
  return new EmbeddedStateStore(state, options);
}
