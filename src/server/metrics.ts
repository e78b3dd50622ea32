import { Counter, Gauge, Histogram, Registry, Summary, collectDefaultMetrics } from 'prom-client';
import type { RunSummary } from '../state/run-record.ts';
import type { RejectCategory } from '../destinations/destination.ts';

/**
 * Prometheus metrics of one server, on a registry of its own (two servers in one process,
 * as in tests, never share counters).
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly runs = new Counter({
    name: 'lastmile_runs_total', help: 'Finished runs by sync and status (success, partial, failed).',
    labelNames: ['sync', 'status'] as const, registers: [this.registry],
  });
  private readonly rows = new Counter({
    name: 'lastmile_rows_total', help: 'Rows sent for delivery, by outcome (delivered or rejected).',
    labelNames: ['sync', 'outcome'] as const, registers: [this.registry],
  });
  private readonly rejected = new Counter({
    name: 'lastmile_rejected_rows_total', help: 'Rejected rows by failure category.',
    labelNames: ['sync', 'category'] as const, registers: [this.registry],
  });
  private readonly apiCalls = new Counter({
    name: 'lastmile_api_calls_total', help: 'Requests (or statements) sent to destinations.',
    labelNames: ['sync'] as const, registers: [this.registry],
  });
  private readonly throttled = new Counter({
    name: 'lastmile_throttled_total', help: 'Answers that said to slow down (HTTP 429 and the like).',
    labelNames: ['sync'] as const, registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: 'lastmile_retries_total', help: 'Requests sent again after a transient failure or a 429.',
    labelNames: ['sync'] as const, registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'lastmile_run_duration_seconds', help: 'Run duration from start to finalize.',
    labelNames: ['sync', 'status'] as const, registers: [this.registry],
    buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600],
  });
  private readonly latency = new Histogram({
    name: 'lastmile_row_latency_seconds', help: 'End-to-end latency L of each delivered row: its event time (the model\'s eventTime) to the destination\'s acknowledgement.',
    labelNames: ['sync'] as const, registers: [this.registry],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400],
  });
  private readonly newestAge = new Gauge({
    name: 'lastmile_model_newest_row_age_seconds', help: 'Age of the model\'s newest row (its freshness column) when the sync\'s last run read it.',
    labelNames: ['sync'] as const, registers: [this.registry],
  });
  private readonly stale = new Counter({
    name: 'lastmile_stale_runs_total', help: 'Runs that found their model stale (newest row older than its freshness maxAge).',
    labelNames: ['sync'] as const, registers: [this.registry],
  });
  private readonly running = new Gauge({
    name: 'lastmile_runs_in_progress', help: 'Runs in progress in this server.',
    labelNames: ['sync'] as const, registers: [this.registry],
  });

  private readonly lastSuccessAt = new Gauge({
    name: 'lastmile_sync_last_success_timestamp_seconds', help: 'When the sync\'s last run that did not fail (success or partial) ended, in seconds since the epoch: alert on time() minus it.',
    labelNames: ['sync'] as const, registers: [this.registry],
  });
  private readonly rejectedNow = new Gauge({
    name: 'lastmile_sync_rejected_rows', help: 'Rows of the sync currently refused for good (by the destination or the mapping): they wait until they change or a --retry-rejected run.',
    labelNames: ['sync'] as const, registers: [this.registry],
  });

  private readonly plansRunning = new Gauge({
    name: 'lastmile_plans_running', help: 'Plans being computed now (GET /api/syncs/{sync}/plan).', registers: [this.registry],
  });
  private readonly plansRunningMax = new Gauge({
    name: 'lastmile_plans_running_max', help: 'Most plans computed at once since the server started.', registers: [this.registry],
  });
  private readonly plansRefused = new Counter({
    name: 'lastmile_plans_refused_total', help: 'Plan requests answered 429: too many plans in progress.', registers: [this.registry],
  });
  private mostPlans = 0;

  private readonly eventLatency = new Summary({
    name: 'lastmile_event_latency_seconds', help: 'Events: from acceptance (POST or NATS) to the destination\'s acknowledgement, over the last 5 minutes.',
    labelNames: ['sync'] as const, registers: [this.registry], percentiles: [0.5, 0.95, 0.99], maxAgeSeconds: 300, ageBuckets: 5,
  });
  private readonly eventsRefusedTotal = new Counter({
    name: 'lastmile_events_refused_total', help: 'Event requests answered 429: the sync\'s event queue was full.',
    labelNames: ['sync'] as const, registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'lastmile_' });
  }

  runStarted(sync: string): void {
    this.running.inc({ sync });
  }

  /** Called as the run ends, before anything is awaited: /metrics agrees with the run's status at once. */
  runFinished(summary: RunSummary): void {
    const { sync } = summary;
    this.running.dec({ sync });
    if (summary.dryRun) return;
    this.runs.inc({ sync, status: summary.status });
    this.rows.inc({ sync, outcome: 'delivered' }, summary.delivered);
    this.rows.inc({ sync, outcome: 'rejected' }, summary.rejected);
    this.apiCalls.inc({ sync }, summary.apiCalls);
    this.throttled.inc({ sync }, summary.throttled);
    this.retries.inc({ sync }, summary.retries);
    this.duration.observe({ sync, status: summary.status }, summary.durationMs / 1000);
    if (summary.freshness?.ageMs != null) this.newestAge.set({ sync }, summary.freshness.ageMs / 1000);
    if (summary.freshness?.stale) this.stale.inc({ sync });
  }

  lastSuccess(sync: string, at: Date): void {
    this.lastSuccessAt.set({ sync }, at.getTime() / 1000);
  }

  rejectedRowsNow(sync: string, rows: number): void {
    this.rejectedNow.set({ sync }, rows);
  }

  /** A run's rejections by category (read from the store once the run ended). */
  rejectedByCategory(sync: string, byCategory: Partial<Record<RejectCategory, number>>): void {
    for (const [category, count] of Object.entries(byCategory)) {
      if (count) this.rejected.inc({ sync, category }, count);
    }
  }

  /** Every delivered row's L, as a run ends. */
  rowLatencies(sync: string, latenciesMs: Float64Array): void {
    const child = this.latency.labels({ sync });
    for (const ms of latenciesMs) child.observe(ms / 1000);
  }

  plansRunningNow(running: number): void {
    this.plansRunning.set(running);
    this.mostPlans = Math.max(this.mostPlans, running);
    this.plansRunningMax.set(this.mostPlans);
  }

  eventDelivered(sync: string, ms: number): void {
    this.eventLatency.observe({ sync }, ms / 1000);
  }

  eventsRefused(sync: string): void {
    this.eventsRefusedTotal.inc({ sync });
  }

  planRefused(): void {
    this.plansRefused.inc();
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
