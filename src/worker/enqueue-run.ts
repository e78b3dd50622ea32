import { QueueEvents } from 'bullmq';
import type { Project } from '../config/project.ts';
import { newRunId } from '../engine/run-sync.ts';
import { resolveSync } from '../engine/resolve-sync.ts';
import type { RunSummary } from '../state/run-record.ts';
import { distributedSettings } from './distributed-settings.ts';
import { configVersion, redisConnection, runsQueue, type RunJobData } from './queues.ts';

export interface EnqueueOptions {
  trigger: RunJobData['trigger'];
  runId?: string;
  fullResync?: boolean;
  retryRejected?: boolean;
  signal?: AbortSignal;
}

/**
 * Puts a run of `sync` on the runs queue for a worker to take, and waits for its summary.
 * Stopping the wait (the signal) leaves the run to the workers.
 */
export async function enqueueRun(project: Project, sync: string, options: EnqueueOptions): Promise<RunSummary> {
  const { queue } = distributedSettings(project, 'a queued run');
  resolveSync(project, sync); // an unknown sync is a config error here, not in a worker
  const runId = options.runId ?? newRunId();
  const connection = redisConnection(queue);
  const eventsConnection = redisConnection(queue);
  const events = new QueueEvents('runs', { connection: eventsConnection, prefix: queue.prefix });
  const runs = runsQueue(queue, connection);
  try {
    await events.waitUntilReady();
    const job = await runs.add('run', {
      sync, runId, trigger: options.trigger, fullResync: options.fullResync, retryRejected: options.retryRejected, configVersion: configVersion(project),
    }, { jobId: runId, removeOnComplete: 1_000, removeOnFail: 1_000 });
    const done = job.waitUntilFinished(events) as Promise<RunSummary>;
    if (!options.signal) return await done;
    const stopped = new Promise<never>((_, reject) => {
      if (options.signal!.aborted) reject(options.signal!.reason);
      options.signal!.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
    });
    return await Promise.race([done, stopped]);
  } finally {
    await runs.close();
    await events.close();
    connection.disconnect();
    eventsConnection.disconnect();
  }
}
