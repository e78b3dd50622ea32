import path from 'node:path';
import type { Logger } from 'pino';
import type { Project } from '../config/project.ts';
import type { StateStore } from '../state/state-store.ts';
import { loadProject } from '../config/load-project.ts';
import { secretRedactor, type Redactor } from '../config/redact.ts';
import { openProjectState } from '../state/open-state-store.ts';
import { buildApp } from './app.ts';
import { Alerter } from './alerts.ts';
import { TokenAuth } from './auth.ts';
import { engineRunner } from './engine-runner.ts';
import { createLogger } from './logger.ts';
import { ServerMetrics } from './metrics.ts';
import { RunManager, type SyncRunner } from './run-manager.ts';
import { PlanGate } from './plan-gate.ts';
import { Scheduler, type Clock } from './scheduler.ts';
import type { ServerContext } from './server-context.ts';
import { ensureUiBundle } from './ui-bundle.ts';
import { EventHub } from '../events/event-hub.ts';
import { lastSuccessAt, parkedRowCount, succeeded } from './sync-health.ts';

export interface ServeOptions {
  configPath: string;
  port: number;
  host?: string;
  signal?: AbortSignal;
  /** Environment for ${NAME} in the config and LASTMILE_API_TOKEN (default process.env). */
  env?: Record<string, string | undefined>;
  /** Where JSON logs go (default stdout), and from which level. */
  log?: { stream?: NodeJS.WritableStream; level?: string };
  /** Serve the API without the web UI (no build). */
  ui?: boolean;
  /** For tests: the scheduler's clock, the engine behind runs. */
  clock?: Clock;
  runner?: (project: Project, store: StateStore) => SyncRunner;
}

export interface Server {
  url: string;
  close(): Promise<void>;
}

const DEAD_RUN_SWEEP_MS = 30_000;

/** `lastmile serve`: REST API, web UI, scheduler, alerts and metrics in one process. */
export async function serve(options: ServeOptions): Promise<Server> {
  const env = options.env ?? process.env;
  const project = await loadProject(path.resolve(options.configPath), env);
  const envToken = env.LASTMILE_API_TOKEN || undefined;
  const clean: Redactor = secretRedactor([...project.secrets, ...project.tokens.map((t) => t.token), ...(envToken ? [envToken] : [])]);
  const log = createLogger({ redact: clean, ...options.log });

  const store = await openProjectState(project, { redact: clean });
  // Runs killed while nobody watched stop showing as running: now, and every half minute.
  const sweep = () => store.abandonDeadRuns().catch((error: Error) => log.warn(`could not check for dead runs: ${error.message}`));
  await sweep();
  const sweeper = setInterval(() => void sweep(), DEAD_RUN_SWEEP_MS);
  sweeper.unref();
  const metrics = new ServerMetrics();
  const events = new EventHub({ project, store, warn: (message) => log.warn(message), onDelivered: (sync, ms) => metrics.eventDelivered(sync, ms) });
  const runner = (options.runner ?? engineRunner)(project, store, { onLatencies: (sync, ms) => metrics.rowLatencies(sync, ms) });
  // Runs commit through the hub, so the event path sees their state as soon as it is written.
  const manager = new RunManager({ runner, store: events.watching(store), log });
  const alerter = new Alerter({ alerts: project.alerts, redact: clean, log });
  const auth = new TokenAuth(project.tokens, envToken);
  if (!auth.configured) log.warn('no API token is configured: every /api request will get 401; set LASTMILE_API_TOKEN or add `tokens` to the config');

  const scheduler = new Scheduler({
    syncs: Object.values(project.syncs), log, clock: options.clock,
    isRunning: (sync) => manager.isRunning(sync),
    startRun: async (sync, trigger) => { await manager.start(sync, { trigger }); },
    isPaused: async (sync) => (await store.pausedAt(sync)) !== null,
    lastStart: async (sync) => {
      const runs = await store.listRuns({ sync, limit: 20 });
      const last = runs.find((run) => !run.dryRun);
      return last ? new Date(last.startedAt) : null;
    },
    lastSuccess: (sync) => lastSuccessAt(store, sync),
  });

  let url = '';
  manager.onStarted((sync) => metrics.runStarted(sync));
  // The health gauges of /metrics: known from the store at start, kept up to date as runs end.
  const countParked = (sync: string) => parkedRowCount(project, store, sync)
    .then((rows) => metrics.rejectedRowsNow(sync, rows))
    .catch((error: Error) => log.warn(`sync "${sync}": could not count its rejected rows for /metrics (${error.message})`));
  void Promise.all(Object.keys(project.syncs).map(async (sync) => {
    const at = await lastSuccessAt(store, sync).catch(() => null);
    if (at) metrics.lastSuccess(sync, at);
    await countParked(sync);
  }));
  manager.onFinished(async (summary) => {
    metrics.runFinished(summary);
    if (succeeded(summary)) metrics.lastSuccess(summary.sync, new Date(summary.finishedAt ?? Date.now()));
    if (!summary.dryRun) await countParked(summary.sync);
    const rejectedByCategory = summary.rejected ? await store.rejectedByCategory(summary.runId) : {};
    if (!summary.dryRun) metrics.rejectedByCategory(summary.sync, rejectedByCategory);
    const level = summary.status === 'failed' ? 'error' : summary.status === 'partial' ? 'warn' : 'info';
    log[level]({ run: summary, rejectedByCategory }, `run ${summary.runId} of "${summary.sync}" ended: ${summary.status}${summary.error ? ` (${summary.error})` : ''}`);
    await alerter.notify(summary, { rejectedByCategory, runUrl: `${url}/#/runs/${encodeURIComponent(summary.runId)}` });
    await scheduler.runFinished(summary);
    // The run moved the sync's state: events compare against it from now on.
    if (!summary.dryRun) await events.stateMoved(summary.sync).catch((error: Error) => log.warn(`sync "${summary.sync}": events could not read its state again (${error.message})`));
  });

  const uiDir = options.ui === false ? null : await ensureUiBundle().catch((error: Error) => {
    log.warn(`the web UI is not available: ${error.message}`);
    return null;
  });
  const plans = new PlanGate((sync) => runner.plan(sync), { onRunning: (running) => metrics.plansRunningNow(running) });
  const ctx: ServerContext = { project, store, runner, manager, plans, scheduler, events, metrics, auth, log, redact: clean, uiDir };
  const app = await buildApp(ctx);
  const host = options.host ?? '127.0.0.1';
  // Fastify says "Server listening at …" for each address; the one start-up line is the one below.
  const level = app.log.level;
  app.log.level = 'warn';
  try {
    await app.listen({ port: options.port, host });
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    app.log.level = level;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  await scheduler.start();
  await events.start();
  const syncs = Object.keys(project.syncs).length;
  log.info({ url, syncs, ui: uiDir !== null }, `lastmile serving ${url}: ${syncs} ${syncs === 1 ? 'sync' : 'syncs'}, API at /api, ${uiDir ? 'web UI at /, ' : ''}metrics at /metrics`);

  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (clearInterval(sweeper), shutdown(log, scheduler, manager, app, store, events)));
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  return { url, close };
}

async function shutdown(log: Logger, scheduler: Scheduler, manager: RunManager, app: { close(): Promise<unknown> }, store: StateStore, events: EventHub): Promise<void> {
  scheduler.stop();
  await manager.abortAll();
  await app.close();
  // Events still waiting stay in their journal: the next start delivers them.
  await events.close();
  await store.close();
  log.info('lastmile server stopped');
}

export type { ServerContext };
