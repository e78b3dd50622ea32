import { setTimeout as sleep } from 'node:timers/promises';
import { QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Project, QueueConfig } from '../config/project.ts';
import { newRunId } from '../engine/run-sync.ts';
import { resolveSync } from '../engine/resolve-sync.ts';
import type { RunSummary } from '../state/run-record.ts';
import { RunError } from '../errors.ts';
import { distributedSettings } from './distributed-settings.ts';

import { configVersion, redisConnection, RUNS_QUEUE, runsQueue, type RunJobData } from './queues.ts';

/** How often a caller waiting for a run checks that Redis still has its job. */
const LOST_CHECK_MS = 2_000;
/** Longest the caller waits for the queue's connections to close once it has its answer. */
const CLOSE_WAIT_MS = 5_000;

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
  const runs = runsQueue(queue, connection);
  let events: QueueEvents | undefined;
  try {
    events = await runEventsFromNow(queue, eventsConnection);
    const job = await runs.add('run', {
      sync, runId, trigger: options.trigger, fullResync: options.fullResync, retryRejected: options.retryRejected, configVersion: configVersion(project),
    }, { jobId: runId, removeOnComplete: 1_000, removeOnFail: 1_000 });
    const done = job.waitUntilFinished(events) as Promise<RunSummary>;
    const lost = jobLost(runs, runId);
    const stopped = new Promise<never>((_, reject) => {
      if (!options.signal) return;
      if (options.signal.aborted) reject(options.signal.reason);
      options.signal.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
    });
    try {
      return await Promise.race([done, stopped, lost.promise]);
    } finally {
      lost.stop();
    }
  } finally {
    // After Redis was restarted a close can wait on a connection that never comes back: the
    // answer is already decided, so close for at most CLOSE_WAIT_MS, then drop the connections.
    await Promise.race([Promise.allSettled([runs.close(), events?.close()]), sleep(CLOSE_WAIT_MS, undefined, { ref: false })]);
    connection.disconnect();
    eventsConnection.disconnect();
  }
}

/**
 * The runs queue's events from the last one Redis holds now. BullMQ's QueueEvents otherwise
 * reads from '$', what arrives after its first blocking read: a run that a worker refused the
 * instant it was added could end before that read was sent, and the caller waited for an
 * answer already given. `autorun: false` leaves the reading to start with `run()`.
 */
export async function runEventsFromNow(queue: QueueConfig, connection: Redis, options: { autorun?: boolean } = {}): Promise<QueueEvents> {
  const [last] = await connection.xrevrange(`${queue.prefix}:${RUNS_QUEUE}:events`, '+', '-', 'COUNT', 1);
  const events = new QueueEvents(RUNS_QUEUE, { connection, prefix: queue.prefix, lastEventId: last?.[0] ?? '0-0', autorun: options.autorun ?? true });
  await events.waitUntilReady();
  return events;
}

/** Rejects when the run's job is gone from Redis before it finished (Redis restarted and kept nothing). */
function jobLost(runs: ReturnType<typeof runsQueue>, runId: string): { promise: Promise<never>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      void runs.getJob(runId).then((job) => {
        if (job) return;
        reject(new RunError(`run ${runId}: the queue lost its job (was Redis restarted?); the run ends as failed, state keeps every batch delivered, the next run sends the rest`));
      }, () => undefined);
    }, LOST_CHECK_MS);
  });
  return { promise, stop: () => clearInterval(timer) };
}
