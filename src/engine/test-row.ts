import { randomUUID } from 'node:crypto';
import type { Operation } from '../destinations/destination.ts';
import type { Row, Value } from '../sources/source.ts';
import type { RowState, RowStateUpdate, StateStore } from '../state/state-store.ts';
import type { Outcome } from '../delivery/outcome.ts';
import { deliver } from '../delivery/deliver.ts';
import { requestInspector, type InspectedRequest } from '../delivery/request-inspector.ts';
import { keyOfRow } from '../diff/fingerprint/fingerprint-v1.ts';
import { learnEventModel, type EventModel } from '../events/event-model.ts';
import { ConfigError } from '../errors.ts';
import { createDestination, createSource, resolveSync, type ResolvedSync } from './resolve-sync.ts';
import { openRowState } from './row-state.ts';
import { MODE_OPERATIONS } from './sync-modes.ts';
import { parkedUpdate, stateUpdateFor, type PendingChange } from './state-update.ts';
import type { RunEnv } from './run-sync.ts';

/** The row a test asked for is not in the model. */
export class RowNotFoundError extends ConfigError {}

export interface TestRowResult {
  sync: string;
  key: string;
  /** not_sent: the mode sends nothing for this row (insert of a key synced before). */
  outcome: 'delivered' | 'rejected' | 'deferred' | 'not_sent';
  operation?: Operation;
  /** The mapped payload, as handed to the destination. */
  fields?: Record<string, Value>;
  /** Why it was refused, deferred or not sent. */
  reason?: string;
  code?: string;
  /** true when the row's state moved, exactly as a run's delivery of the row would move it. */
  stateUpdated: boolean;
  /** The requests the delivery sent, in order, with their answers (secrets replaced). */
  requests: InspectedRequest[];
}

/**
 * `sync SYNC --only KEY`: one row of the model, by primary key, through the sync's mapping and
 * delivery, sent even when unchanged. The row's state moves as a run's would (delivered: its
 * fingerprint and destination id are kept; refused for good: parked); no run is recorded and the
 * cursor does not move. One attempt: a transient failure is shown, not retried (the next run sends it).
 */
export async function testRow(env: RunEnv, syncName: string, key: string, options: { signal?: AbortSignal } = {}): Promise<TestRowResult> {
  const resolved = resolveSync(env.project, syncName);
  const signal = options.signal ?? new AbortController().signal;
  const lock = await env.store.acquireLock(syncName, `test-row-${randomUUID().slice(0, 8)}`);
  const destination = createDestination(env.project, resolved);
  try {
    const rowState = await openRowState(env.project, env.store, resolved);
    try {
      const model = await learnEventModel(env.project, resolved, destination, signal);
      const row = await findRow(env, resolved, model, key, signal);
      const previous = await findState(rowState.store, syncName, key, signal);
      const op = MODE_OPERATIONS[resolved.sync.mode][previous ? 'changed' : 'added'];
      const fp = model.fingerprint(row);
      const prior = previous ? { status: previous.status, match: previous.match ?? null } : null;
      const base = { sync: syncName, key, requests: [] as InspectedRequest[] };
      const commit = async (update: RowStateUpdate | undefined) => {
        if (update) await rowState.store.commitRows(syncName, [update]);
        return update !== undefined;
      };

      const mapped = model.mapper.map(row);
      if (!mapped.ok) {
        const { rejection } = mapped;
        const stateUpdated = await commit(parkedUpdate({ op: op ?? 'upsert', fp, localFp: null, destId: previous?.destId ?? undefined, previous: prior }, key, rejection));
        return { ...base, outcome: 'rejected', reason: rejection.message, ...(rejection.code ? { code: rejection.code } : {}), stateUpdated };
      }
      const { fields, match } = mapped.value;
      if (!op) return { ...base, outcome: 'not_sent', fields, stateUpdated: false, reason: `mode ${resolved.sync.mode} sends new keys only; this key was synced before, so sending it again would insert it twice` };

      const change: PendingChange = { key, op, match, fields, destId: previous?.destId ?? undefined, fp, localFp: null, previous: prior };
      let outcome: Outcome | undefined;
      let stateUpdated = false;
      let stopped: Error | undefined;
      const { requests } = await requestInspector.captured(async () => {
        try {
          await deliver((async function* () { yield [change]; })(), {
            destination, batchSize: 1, rateLimit: resolved.destinationConfig.rateLimit, signal, maxAttempts: 1,
          }, {
            trace: () => undefined,
            onSettled: async (_changes, outcomes) => {
              outcome = outcomes[0];
              stateUpdated = await commit(outcome && stateUpdateFor(change, outcome));
            },
          });
        } catch (error) {
          stopped = error as Error; // the delivery stopped (credentials, quota): shown with the requests that led to it
        }
      });
      const result = { ...base, operation: op, fields, requests, stateUpdated };
      if (!outcome) return { ...result, outcome: 'deferred', reason: stopped?.message ?? 'the delivery ended without an answer for this row' };
      if (outcome.outcome === 'delivered') return { ...result, outcome: 'delivered' };
      if (outcome.outcome === 'deferred') return { ...result, outcome: 'deferred', reason: outcome.reason };
      const { rejection } = outcome;
      return { ...result, outcome: 'rejected', reason: rejection.message, ...(rejection.code ? { code: rejection.code } : {}) };
    } finally {
      await rowState.close();
    }
  } finally {
    await destination.close();
    await lock.release();
  }
}

/** The model's row with this key: the model is read as a run reads it, until the row turns up. */
async function findRow(env: RunEnv, resolved: ResolvedSync, model: EventModel, key: string, signal: AbortSignal): Promise<Row> {
  const { model: config } = resolved;
  const keyColumns = model.primaryKey.map((name) => model.columns.find((c) => c.name === name)!);
  const source = createSource(env.project, resolved.sourceConfig);
  try {
    const base = config.sql ?? source.tableQuery(config.table!);
    for await (const chunk of source.read(`SELECT * FROM (${base}) AS lastmile_model`, { chunkSize: 10_000, signal })) {
      for (const row of chunk.rows) if (keyOfRow(keyColumns, row) === key) return row;
    }
  } finally {
    await source.close();
  }
  const composite = model.primaryKey.length > 1 ? ` (a composite key is written as a JSON array, e.g. ${JSON.stringify(model.primaryKey.map((c) => `<${c}>`))})` : '';
  throw new RowNotFoundError(`sync "${resolved.sync.name}": model "${config.name}" has no row with ${model.primaryKey.join(', ')} = ${key}${composite}`, resolved.sync.location);
}

async function findState(store: StateStore, sync: string, key: string, signal: AbortSignal): Promise<RowState | undefined> {
  for await (const chunk of store.readRowState(sync, { chunkSize: 10_000, signal })) {
    const found = chunk.find((row) => row.key === key);
    if (found) return found;
  }
  return undefined;
}
