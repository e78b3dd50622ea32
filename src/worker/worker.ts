import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Project } from '../config/project.ts';
import { useBudgetProvider } from '../delivery/budgets.ts';
import { checkDestination } from '../delivery/check-destination.ts';
import { RedisBudgets } from '../delivery/redis-rate-budget.ts';
import type { Destination } from '../destinations/destination.ts';
import { createDestination, resolveSync } from '../engine/resolve-sync.ts';
import type { RunSummary } from '../state/run-record.ts';
import type { StateStore } from '../state/state-store.ts';
import { runBatchJob } from './batch-job.ts';
import { distributedSettings } from './distributed-settings.ts';
import { runDistributed } from './distributed-run.ts';
import { batchesQueue, BATCHES_QUEUE, configVersion, redisConnection, RUNS_QUEUE, type BatchJobData, type RunJobData } from './queues.ts';
import { RunLedger } from './run-ledger.ts';
import { WorkerMetrics } from './worker-metrics.ts';
import { WorkerRegistry } from './worker-registry.ts';

export interface WorkerOptions {
  /** Runs diffed at once by this worker. */
  runConcurrency?: number;
  /** Batches delivered at once by this worker. */
  batchConcurrency?: number;
  /** Serve this worker's Prometheus /metrics on this port (0: any free one); none when undefined. */
  metricsPort?: number;
  log?(text: string): void;
}

/** How long a job's worker may go silent before BullMQ gives the job to another (a killed worker). */
export const DEFAULT_STALLED_AFTER_MS = 30_000;
/** Tries of a batch job that fails (not counting stalls): then its rows wait for the next run. */
export const BATCH_ATTEMPTS = 3;

export interface RunningWorker {
  /** Where this worker's /metrics is served (with metricsPort). */
  metricsUrl?: string;
  close(): Promise<void>;
}

/**
 * `lastmile worker`: takes run jobs (diff, write batches) and batch jobs (deliver) from the
 * project's queues, delivering through rate budgets shared in Redis with every other worker.
 */
export async function startWorker(project: Project, store: StateStore, options: WorkerOptions = {}): Promise<RunningWorker> {
  const { queue } = distributedSettings(project, 'lastmile worker');
  const log = options.log ?? (() => undefined);
  const version = configVersion(project);
  const ledger = await RunLedger.open(project.state);
  const connections: Redis[] = [];
  const connect = () => {
    const c = redisConnection(queue);
    connections.push(c);
    return c;
  };
  const budgets = new RedisBudgets(connect(), queue.prefix);
  const metrics = new WorkerMetrics(() => budgets.all());
  const previousBudgets = useBudgetProvider(budgets);
  const batches = batchesQueue(queue, connect());
  const destinations = new Map<string, Promise<Destination>>();
  const stop = new AbortController();

  const destinationFor = (sync: string, signal: AbortSignal): Promise<Destination> => {
    let destination = destinations.get(sync);
    if (!destination) {
      destination = (async () => {
        const resolved = resolveSync(project, sync);
        const d = createDestination(project, resolved);
        await checkDestination(d, resolved.destinationConfig.rateLimit, signal);
        return d;
      })();
      destination.catch(() => destinations.delete(sync));
      destinations.set(sync, destination);
    }
    return destination;
  };
  const sameConfig = (job: Job<RunJobData | BatchJobData>) => {
    if (job.data.configVersion !== version) {
      throw new UnrecoverableError(
        `worker ${process.pid} on ${os.hostname()} runs config version ${version}, but ${job.name} ${job.id} was enqueued with version ${job.data.configVersion}: ` +
          'start every worker (and serve) with the same lastmile.yml',
      );
    }
  };
  const stalledAfter = queue.stalledAfterMs ?? DEFAULT_STALLED_AFTER_MS;
  const common = { prefix: queue.prefix, lockDuration: stalledAfter, stalledInterval: stalledAfter, maxStalledCount: 3 };

  const runs = new Worker<RunJobData, RunSummary>(RUNS_QUEUE, async (job) => {
    sameConfig(job);
    log(`run ${job.data.runId} of sync "${job.data.sync}": diffing`);
    const summary = await runDistributed({
      project, store, ledger,
      enqueueBatch: async (runId, batchNo) => {
        await batches.add('batch', { sync: job.data.sync, runId, batchNo, configVersion: version }, {
          jobId: `${runId}-b${batchNo}`, attempts: BATCH_ATTEMPTS, backoff: { type: 'exponential', delay: 1_000 },
          removeOnComplete: true, removeOnFail: 1_000,
        });
      },
      batchQueued: async (runId, batchNo) => (await batches.getJob(`${runId}-b${batchNo}`)) !== undefined,
    }, job.data, stop.signal);
    log(`run ${summary.runId} of sync "${summary.sync}": ${summary.status}`);
    metrics.runFinished(summary);
    return summary;
  }, { ...common, connection: connect(), concurrency: options.runConcurrency ?? 2 });

  const batchWorker = new Worker<BatchJobData, string>(BATCHES_QUEUE, async (job) => {
    sameConfig(job);
    try {
      const counts = await runBatchJob({ project, store, ledger, destinationFor }, job.data, stop.signal);
      metrics.batchFinished(job.data.sync, counts === 'skipped' ? 'skipped' : 'settled', counts === 'skipped' ? undefined : counts);
      return counts === 'skipped' ? 'skipped' : 'settled';
    } catch (error) {
      metrics.batchFinished(job.data.sync, 'failed');
      throw error;
    }
  }, { ...common, connection: connect(), concurrency: options.batchConcurrency ?? 4 });

  const current = new Set<string>();
  for (const w of [runs, batchWorker] as Worker[]) {
    const kind = w === runs ? 'run' : 'batch';
    const ended = (job: Job | undefined) => {
      if (job && current.delete(`${job.name} ${job.id}`)) metrics.jobEnded(kind);
    };
    w.on('active', (job) => {
      current.add(`${job.name} ${job.id}`);
      metrics.jobStarted(kind);
    });
    w.on('completed', ended);
    w.on('failed', ended);
  }
  const leave = new WorkerRegistry(connect(), queue.prefix).join(version, () => [...current]);
  for (const w of [runs, batchWorker]) w.on('error', (error) => log(`worker: ${error.message}`));
  batchWorker.on('failed', (job, error) => log(`batch ${job?.id}: ${error.message}`));
  await Promise.all([runs.waitUntilReady(), batchWorker.waitUntilReady()]);
  const served = options.metricsPort === undefined ? undefined : await metrics.listen(options.metricsPort);
  if (served) log(`lastmile worker ${process.pid}: metrics at ${served.url}`);
  log(`lastmile worker ${process.pid} on ${os.hostname()}: config version ${version}, taking jobs from ${queue.prefix}:${RUNS_QUEUE} and ${queue.prefix}:${BATCHES_QUEUE}`);

  return {
    metricsUrl: served?.url,
    async close() {
      await served?.close();
      stop.abort(new Error('the worker is stopping'));
      await leave();
      await Promise.allSettled([runs.close(), batchWorker.close()]);
      await batches.close();
      budgets.close();
      useBudgetProvider(previousBudgets);
      for (const d of destinations.values()) await d.then((x) => x.close(), () => undefined);
      await ledger.close();
      for (const c of connections) c.disconnect();
    },
  };
}
