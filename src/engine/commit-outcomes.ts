import type { Outcome } from '../delivery/outcome.ts';
import type { RowStateUpdate, StateStore } from '../state/state-store.ts';
import type { LocalOutcomes, PendingChange } from './change-stream.ts';
import type { RejectedChange, RunRecorder } from './run-recorder.ts';
import { stateUpdateFor } from './state-update.ts';

/** Where settled rows go: into the sync's state (batch by batch) and the run's counts and rejections. */
export interface OutcomeCommitter {
  /** Rows settled without a request: refused by the mapping, or deletes of rows never delivered. */
  local(outcomes: LocalOutcomes): Promise<void>;
  /** One batch the destination answered, each change with its outcome. */
  settled(batch: PendingChange[], outcomes: Outcome[]): Promise<void>;
  /** Rows held back because events delivered newer values of their keys (counted as skipped). */
  readonly heldBack: number;
}

/** State moves forward only for what the destination acknowledged or refused for good (see stateUpdateFor). */
export function commitOutcomes(store: StateStore, sync: string, recorder: RunRecorder): OutcomeCommitter {
  const commit = async (updates: RowStateUpdate[]) => {
    if (updates.length) await store.commitRows(sync, updates);
  };
  let heldBack = 0;
  return {
    get heldBack() {
      return heldBack;
    },
    async local(local) {
      const { skipped, rejected } = local;
      await commit([...skipped, ...rejected.flatMap((row) => (row.update ? [row.update] : []))]);
      heldBack += local.heldBack;
      recorder.skip(skipped.length + local.heldBack);
      await recorder.reject(rejected);
    },
    async settled(batch, outcomes) {
      const { updates, delivered, rejected } = outcomesOf(batch, outcomes);
      await commit(updates);
      if (recorder.watchesRows) recorder.rowsSettled(batch.map(({ key, op, eventAt }, i) => ({ key, op, outcome: outcomes[i]!.outcome, eventAt })));
      recorder.delivered(delivered);
      await recorder.reject(rejected);
      await recorder.checkpoint();
    },
  };
}

/** A settled batch's state updates, how many rows were delivered, and the rows refused with their reasons. */
export function outcomesOf(batch: PendingChange[], outcomes: Outcome[]): {
  updates: RowStateUpdate[]; delivered: number; rejected: RejectedChange[];
} {
  const updates: RowStateUpdate[] = [];
  const rejected: RejectedChange[] = [];
  let delivered = 0;
  for (let i = 0; i < batch.length; i++) {
    const outcome = outcomes[i];
    const update = stateUpdateFor(batch[i], outcome);
    if (update) updates.push(update);
    if (outcome.outcome === 'delivered') delivered++;
    if (outcome.outcome === 'rejected') rejected.push({ key: outcome.key, rejection: outcome.rejection, sent: sentValues(batch[i]) });
  }
  return { updates, delivered, rejected };
}

/** What a change carried to the destination: its payload, or for a delete the identifiers it named. */
function sentValues(change: PendingChange): RejectedChange['sent'] {
  return change.op === 'delete' ? change.match : change.fields;
}
