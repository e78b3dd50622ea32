import http from 'node:http';
import os from 'node:os';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { RedisRateBudget } from '../delivery/redis-rate-budget.ts';
import type { RunSummary } from '../state/run-record.ts';
import type { BatchCounts } from './run-ledger.ts';

/**
 * Prometheus metrics of one `lastmile worker` (`--metrics-port`): what this process delivered
 * and diffed, its jobs in progress, and the rate budgets as it sees them. Each worker serves
 * its own /metrics, as any process Prometheus scrapes; the `worker` label (host:pid) tells
 * them apart in a sum, and `GET /api/workers` lists the same ids.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly worker = `${os.hostname()}:${process.pid}`;
  private readonly batches = new Counter({
    name: 'lastmile_worker_batches_total', help: 'Batch jobs this worker finished: settled, skipped (settled before, or its run over) or failed (tried again).',
    labelNames: ['worker', 'sync', 'result'] as const, registers: [this.registry],
  });
  private readonly rows = new Counter({
    name: 'lastmile_worker_rows_total', help: 'Rows this worker settled, by outcome (delivered, rejected).',
    labelNames: ['worker', 'sync', 'outcome'] as const, registers: [this.registry],
  });
  private readonly apiCalls = new Counter({
    name: 'lastmile_worker_api_calls_total', help: 'Requests this worker sent to destinations.',
    labelNames: ['worker', 'sync'] as const, registers: [this.registry],
  });
  private readonly throttled = new Counter({
    name: 'lastmile_worker_throttled_total', help: 'Answers to this worker that said to slow down (HTTP 429 and the like).',
    labelNames: ['worker', 'sync'] as const, registers: [this.registry],
  });
  private readonly runs = new Counter({
    name: 'lastmile_worker_runs_total', help: 'Runs this worker diffed, by how they ended.',
    labelNames: ['worker', 'sync', 'status'] as const, registers: [this.registry],
  });
  private readonly jobs = new Gauge({
    name: 'lastmile_worker_jobs_in_progress', help: 'Jobs this worker works on now (run: diffing; batch: delivering).',
    labelNames: ['worker', 'kind'] as const, registers: [this.registry],
  });

  constructor(budgets: () => Iterable<RedisRateBudget>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'lastmile_worker_', labels: { worker: this.worker } });
    const worker = this.worker;
    new Gauge({
      name: 'lastmile_worker_rate_budget_requests_per_second', help: 'The rate in force for each credential this worker is delivering to now, by where it comes from (configured, reported, declared, adaptive: shared by every worker).',
      labelNames: ['worker', 'credential', 'mode'] as const, registers: [this.registry],
      collect() {
        this.reset();
        for (const b of budgets()) if (b.leased && Number.isFinite(b.requestsPerSecond)) this.set({ worker, credential: b.key, mode: b.mode }, b.requestsPerSecond);
      },
    });
  }

  jobStarted(kind: 'run' | 'batch'): void {
    this.jobs.inc({ worker: this.worker, kind });
  }

  jobEnded(kind: 'run' | 'batch'): void {
    this.jobs.dec({ worker: this.worker, kind });
  }

  batchFinished(sync: string, result: 'settled' | 'skipped' | 'failed', counts?: BatchCounts): void {
    const worker = this.worker;
    this.batches.inc({ worker, sync, result });
    if (!counts) return;
    this.rows.inc({ worker, sync, outcome: 'delivered' }, counts.delivered);
    this.rows.inc({ worker, sync, outcome: 'rejected' }, counts.rejected);
    this.apiCalls.inc({ worker, sync }, counts.apiCalls);
    this.throttled.inc({ worker, sync }, counts.throttled);
  }

  runFinished(summary: RunSummary): void {
    this.runs.inc({ worker: this.worker, sync: summary.sync, status: summary.status });
  }

  /** Serves /metrics on `port` (0: any free port); answers where, and how to stop it. */
  async listen(port: number, host = '0.0.0.0'): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
    const { port: bound } = server.address() as { port: number };
    return {
      url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}/metrics`,
      close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    };
  }
}
