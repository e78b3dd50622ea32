import type { DestinationConfig } from '../config/project.ts';
import type { Destination } from '../destinations/destination.ts';
import { deliver } from '../delivery/deliver.ts';
import { SyncError } from '../errors.ts';
import type { PendingChange } from './change-stream.ts';
import type { OutcomeCommitter } from './commit-outcomes.ts';
import type { RunRecorder } from './run-recorder.ts';

/**
 * Batch → limit → write: the delivery engine cuts the changes into the destination's batches,
 * holds them to its rate budget and concurrency, writes them with retries and splitting, and
 * hands every settled batch to `commit`. Answers the reason when the destination made the run
 * stop early with the rest deferred (a quota, a wait past the cap, the circuit broken); throws
 * when the run fails.
 */
export async function sendChanges(
  changes: AsyncIterable<PendingChange[]>,
  destination: Destination,
  destinationConfig: DestinationConfig,
  commit: OutcomeCommitter,
  recorder: RunRecorder,
  signal: AbortSignal,
): Promise<SyncError | undefined> {
  try {
    await deliver(
      changes,
      {
        destination,
        batchSize: destinationConfig.batch?.size ?? destination.capabilities.maxBatchSize,
        rateLimit: destinationConfig.rateLimit,
        signal,
        counters: recorder.delivery,
      },
      { onSettled: commit.settled, trace: (text) => recorder.trace(3, text), onProgress: () => recorder.progress() },
    );
  } catch (error) {
    if (error instanceof SyncError && (error.kind === 'quota' || error.kind === 'unavailable') && !signal.aborted) return error;
    throw error;
  } finally {
    await recorder.flushTrace();
  }
  return undefined;
}
