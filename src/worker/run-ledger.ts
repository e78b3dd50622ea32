import pg from 'pg';
import type { SettledRow } from '../engine/run-recorder.ts';
import type { PendingChange } from '../engine/state-update.ts';
import type { RunProfile, RunSummary } from '../state/run-record.ts';
import { quoteIdent } from '../state/row-state-sql.ts';
import { decodeValue, encodeValue } from '../state/value-json.ts';
import type { Value } from '../sources/source.ts';

/** A row a worker settled, kept for the run's latency meter and sync logs: key, op, outcome, when (epoch ms). */
/** `eventAt`: the row's event time (epoch ms), with a model's eventTime (absent from rows a worker of an earlier release settled). */
export type SettledBatchRow = [key: string, op: string, outcome: SettledRow['outcome'], at: number, eventAt?: number | null];

/** The counts a batch adds to its run; they add up across workers. */
export interface BatchCounts {
  delivered: number;
  rejected: number;
  rejectedRetryable: number;
  skipped: number;
  apiCalls: number;
  retries: number;
  throttled: number;
}

/** One distributed run as every worker sees it. */
export interface LedgerRun {
  runId: string;
  sync: string;
  status: 'pushing' | 'finalized' | 'failed';
  configVersion: string;
  summary: RunSummary;
  profile: RunProfile;
  highWaterMark: Value | null;
  totalBatches: number | null;
  settledBatches: number;
  counts: BatchCounts;
  /** The summary the finalizer saved (progress written late by another process must not hide it). */
  final?: RunSummary;
}

const COUNT_COLUMNS = ['delivered', 'rejected', 'rejected_retryable', 'skipped', 'api_calls', 'retries', 'throttled'] as const;

/**
 * Where a distributed run's changes wait for a worker, and where its batches settle: two tables
 * in the state store's Postgres schema. A run writes its batches here as the diff reads them
 * (a bounded number at a time), a batch job carries only the run id and batch number through
 * Redis, and the row of a batch is deleted in the same transaction that adds its counts, so a
 * batch settles once even when a killed worker's job runs again elsewhere.
 */
export class RunLedger {
  private constructor(private readonly pool: pg.Pool, private readonly schema: string) {}

  static async open(stateUrl: string): Promise<RunLedger> {
    const parsed = new URL(stateUrl);
    const schema = parsed.searchParams.get('schema') ?? 'lastmile';
    parsed.searchParams.delete('schema');
    const pool = new pg.Pool({ connectionString: parsed.toString(), max: 4 });
    pool.on('error', () => undefined);
    const s = quoteIdent(schema);
    await pool.query(`
      CREATE SCHEMA IF NOT EXISTS ${s};
      CREATE TABLE IF NOT EXISTS ${s}.distributed_runs (
        run_id text PRIMARY KEY, sync text NOT NULL, status text NOT NULL DEFAULT 'pushing', config_version text NOT NULL,
        summary jsonb NOT NULL, profile jsonb NOT NULL, high_water text,
        total_batches int, settled_batches int NOT NULL DEFAULT 0,
        delivered bigint NOT NULL DEFAULT 0, rejected bigint NOT NULL DEFAULT 0, rejected_retryable bigint NOT NULL DEFAULT 0,
        skipped bigint NOT NULL DEFAULT 0, api_calls bigint NOT NULL DEFAULT 0, retries bigint NOT NULL DEFAULT 0,
        throttled bigint NOT NULL DEFAULT 0, final_summary jsonb, created_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE IF NOT EXISTS ${s}.distributed_batches (
        run_id text NOT NULL, batch_no int NOT NULL, changes text NOT NULL, PRIMARY KEY (run_id, batch_no));
      CREATE TABLE IF NOT EXISTS ${s}.distributed_settled (
        run_id text NOT NULL, batch_no int NOT NULL, rows jsonb NOT NULL, PRIMARY KEY (run_id, batch_no));
    `).catch(async (error: unknown) => {
      // Two workers starting at once may both create: the loser's error is harmless once the tables exist.
      const { rowCount } = await pool.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'distributed_batches'`, [schema]);
      if (rowCount !== 1) throw error;
    });
    return new RunLedger(pool, schema);
  }

  private get runs(): string {
    return `${quoteIdent(this.schema)}.distributed_runs`;
  }

  private get settled(): string {
    return `${quoteIdent(this.schema)}.distributed_settled`;
  }

  private get batches(): string {
    return `${quoteIdent(this.schema)}.distributed_batches`;
  }

  async createRun(run: Pick<LedgerRun, 'runId' | 'sync' | 'configVersion' | 'summary' | 'profile' | 'highWaterMark'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.runs} (run_id, sync, config_version, summary, profile, high_water) VALUES ($1, $2, $3, $4, $5, $6)`,
      [run.runId, run.sync, run.configVersion, JSON.stringify(run.summary), JSON.stringify(run.profile), encodeValue(run.highWaterMark)],
    );
  }

  async getRun(runId: string): Promise<LedgerRun | undefined> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.runs} WHERE run_id = $1`, [runId]);
    return rows[0] ? runOf(rows[0]) : undefined;
  }

  async putBatch(runId: string, batchNo: number, changes: PendingChange[]): Promise<void> {
    await this.pool.query(`INSERT INTO ${this.batches} (run_id, batch_no, changes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [runId, batchNo, encodeValue(changes as unknown as Value)]);
  }

  /** The changes of a batch not settled yet (undefined: settled already, or its run is over). */
  async readBatch(runId: string, batchNo: number): Promise<PendingChange[] | undefined> {
    const { rows } = await this.pool.query<{ changes: string }>(`SELECT changes FROM ${this.batches} WHERE run_id = $1 AND batch_no = $2`, [runId, batchNo]);
    return rows[0] ? (decodeValue(rows[0].changes) as unknown as PendingChange[]) : undefined;
  }

  /**
   * The batch is done: its row goes and its counts join the run's, in one transaction. Answers
   * the run as it is now, or undefined when the batch had settled already (a job run twice).
   */
  async settleBatch(runId: string, batchNo: number, counts: BatchCounts, rows?: SettledBatchRow[]): Promise<LedgerRun | undefined> {
    // One statement, so one round trip: the delete, the rows and the counts commit together or not at all.
    const sets = COUNT_COLUMNS.map((c, i) => `${c} = ${c} + $${i + 4}`).join(', ');
    const { rows: answer } = await this.pool.query(
      `WITH gone AS (DELETE FROM ${this.batches} WHERE run_id = $1 AND batch_no = $2 RETURNING run_id),
       kept AS (INSERT INTO ${this.settled} (run_id, batch_no, rows) SELECT run_id, $2, $3::jsonb FROM gone WHERE $3::jsonb IS NOT NULL)
       UPDATE ${this.runs} SET settled_batches = settled_batches + 1, ${sets} WHERE run_id = (SELECT run_id FROM gone) RETURNING *`,
      [runId, batchNo, rows ? JSON.stringify(rows) : null, ...countValues(counts)]);
    return answer[0] ? runOf(answer[0]) : undefined;
  }

  /**
   * Takes the rows settled by the workers since the last call (they leave the ledger): the
   * worker that diffed feeds them to the run's latency meter and sync logs.
   */
  async takeSettled(runId: string): Promise<SettledBatchRow[]> {
    const { rows } = await this.pool.query<{ rows: SettledBatchRow[] }>(
      `DELETE FROM ${this.settled} WHERE run_id = $1 RETURNING batch_no, rows`, [runId]);
    return rows.flatMap((r) => r.rows);
  }

  /** Counts settled without a batch (rows the mapping refused, deletes of rows never delivered). */
  async addCounts(runId: string, counts: Partial<BatchCounts>): Promise<void> {
    const full = { delivered: 0, rejected: 0, rejectedRetryable: 0, skipped: 0, apiCalls: 0, retries: 0, throttled: 0, ...counts };
    const sets = COUNT_COLUMNS.map((c, i) => `${c} = ${c} + $${i + 2}`).join(', ');
    await this.pool.query(`UPDATE ${this.runs} SET ${sets} WHERE run_id = $1`, [runId, ...countValues(full)]);
  }

  /** Every batch is written: answers the run, so the caller finalizes when they had all settled already. */
  async closeBatches(runId: string, total: number): Promise<LedgerRun> {
    const { rows } = await this.pool.query(`UPDATE ${this.runs} SET total_batches = $2 WHERE run_id = $1 RETURNING *`, [runId, total]);
    return runOf(rows[0]);
  }

  /**
   * Moves the run from pushing to `status`; true for the one caller that did it (so one worker
   * finalizes, whichever settled the last batch). A failed run's waiting batches are dropped.
   */
  async conclude(runId: string, status: 'finalized' | 'failed'): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE ${this.runs} SET status = $2 WHERE run_id = $1 AND status = 'pushing'`, [runId, status]);
    if (status === 'failed') await this.pool.query(`DELETE FROM ${this.batches} WHERE run_id = $1`, [runId]);
    return rowCount === 1;
  }

  async setFinal(runId: string, summary: RunSummary): Promise<void> {
    await this.pool.query(`UPDATE ${this.runs} SET final_summary = $2 WHERE run_id = $1`, [runId, JSON.stringify(summary)]);
  }

  /** Numbers of the batches not settled yet. */
  async pendingBatchNumbers(runId: string): Promise<number[]> {
    const { rows } = await this.pool.query<{ batch_no: number }>(`SELECT batch_no FROM ${this.batches} WHERE run_id = $1 ORDER BY batch_no`, [runId]);
    return rows.map((r) => r.batch_no);
  }

  /** Batches written and not settled yet. */
  async pendingBatches(runId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.batches} WHERE run_id = $1`, [runId]);
    return Number(rows[0].n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function countValues(c: BatchCounts): number[] {
  return [c.delivered, c.rejected, c.rejectedRetryable, c.skipped, c.apiCalls, c.retries, c.throttled];
}

function runOf(row: Record<string, unknown>): LedgerRun {
  const n = (v: unknown) => Number(v);
  return {
    runId: row.run_id as string,
    sync: row.sync as string,
    status: row.status as LedgerRun['status'],
    configVersion: row.config_version as string,
    summary: row.summary as RunSummary,
    profile: row.profile as RunProfile,
    highWaterMark: row.high_water === null ? null : decodeValue(row.high_water as string),
    totalBatches: row.total_batches === null ? null : n(row.total_batches),
    settledBatches: n(row.settled_batches),
    ...(row.final_summary ? { final: row.final_summary as RunSummary } : {}),
    counts: {
      delivered: n(row.delivered), rejected: n(row.rejected), rejectedRetryable: n(row.rejected_retryable), skipped: n(row.skipped),
      apiCalls: n(row.api_calls), retries: n(row.retries), throttled: n(row.throttled),
    },
  };
}
