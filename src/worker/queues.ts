import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Project, QueueConfig } from '../config/project.ts';
import type { RunTrigger } from '../state/run-record.ts';

/** A run of a sync: diffed by the worker that takes it, which then writes its batches. */
export const RUNS_QUEUE = 'runs';
/** One batch of a run's changes: any worker delivers it. */
export const BATCHES_QUEUE = 'batches';

export interface RunJobData {
  sync: string;
  runId: string;
  trigger: RunTrigger;
  fullResync?: boolean;
  retryRejected?: boolean;
  configVersion: string;
}

export interface BatchJobData {
  sync: string;
  runId: string;
  batchNo: number;
  configVersion: string;
}

/** A Redis connection as BullMQ wants it: commands wait for a reconnect instead of failing at once. */
export function redisConnection(queue: QueueConfig): Redis {
  const redis = new Redis(queue.redis, { maxRetriesPerRequest: null, lazyConnect: false });
  redis.on('error', () => undefined); // reconnects by itself; the jobs in flight report what failed
  return redis;
}

export function runsQueue(queue: QueueConfig, connection: Redis): Queue<RunJobData> {
  return new Queue<RunJobData>(RUNS_QUEUE, { connection, prefix: queue.prefix });
}

/**
 * Events of the batches queue kept in Redis (BullMQ's default is 10,000): nobody listens to
 * them, and a long first sync would otherwise grow the stream for thousands of batches.
 */
const BATCH_EVENTS_KEPT = 1_000;

export function batchesQueue(queue: QueueConfig, connection: Redis): Queue<BatchJobData> {
  return new Queue<BatchJobData>(BATCHES_QUEUE, { connection, prefix: queue.prefix, streams: { events: { maxLen: BATCH_EVENTS_KEPT } } });
}

/**
 * What every worker must agree on: the syncs, models, sources and destinations as loaded. A
 * job carries the version of the process that enqueued it; a worker of another refuses it.
 */
export function configVersion(project: Project): string {
  const { sources, destinations, models, syncs } = project;
  const strip = (entries: Record<string, object>) =>
    Object.fromEntries(Object.entries(entries).map(([name, value]) => [name, { ...value, location: undefined }]));
  const text = JSON.stringify([strip(sources), strip(destinations), strip(models), strip(syncs)]);
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}
