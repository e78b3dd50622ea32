import type pg from 'pg';
import type { RejectCategory } from '../../destinations/destination.ts';
import type { Value } from '../../sources/source.ts';
import type { RejectedQuery, RunListQuery } from '../state-store.ts';
import type { RejectedRow, RunRecord, RunSummary, TraceLine } from '../run-record.ts';
import { quoteIdent } from '../row-state-sql.ts';
import { decodeValue, encodeValue } from '../value-json.ts';
import { abandonedSummary, deathOf } from '../dead-runs.ts';
import type { LockTiming } from '../lock-holder.ts';
import { EXACT_GROUP_LIMIT, foldGroups, sentJson, type RejectedGroup } from '../rejected-groups.ts';

const DEFAULT_RUN_LIMIT = 100;
const DEFAULT_REJECTED_LIMIT = 100;

/** Runs, trace lines, rejected rows and cursors in the store's schema. */
export class PostgresHistory {
  private readonly s: string;

  constructor(private readonly pool: pg.Pool, schema: string) {
    this.s = quoteIdent(schema);
  }

  async saveRun({ summary, profile }: RunRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.s}.runs (run_id, sync, started_at, summary, profile) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (run_id) DO UPDATE SET sync = excluded.sync, started_at = excluded.started_at,
         summary = excluded.summary, profile = excluded.profile`,
      [summary.runId, summary.sync, summary.startedAt, JSON.stringify(summary), JSON.stringify(profile)],
    );
  }

  /** See StateStore.abandonDeadRuns. Heartbeats are read as ages on the database clock. */
  async abandonDeadRuns(timing: LockTiming): Promise<string[]> {
    const { rows } = await this.pool.query<{ summary: string; run_id: string | null; pid: number; host: string; age_ms: number }>(
      `SELECT r.summary::text AS summary, l.run_id, l.pid, l.host, (extract(epoch FROM now() - l.heartbeat_at) * 1000)::float8 AS age_ms
       FROM ${this.s}.runs r LEFT JOIN ${this.s}.locks l ON l.sync = r.sync
       WHERE r.summary->>'status' = 'running'`,
    );
    const abandoned: string[] = [];
    for (const row of rows) {
      const summary = JSON.parse(row.summary) as RunSummary;
      const lock = row.run_id === null ? undefined : { sync: summary.sync, runId: row.run_id, pid: row.pid, host: row.host, heartbeatAt: Date.now() - row.age_ms };
      const death = deathOf({ summary, lock }, timing);
      if (!death) continue;
      const changed = await this.pool.query(
        `UPDATE ${this.s}.runs SET summary = $1 WHERE run_id = $2 AND summary->>'status' = 'running'`,
        [JSON.stringify(abandonedSummary(summary, death)), summary.runId]);
      if (changed.rowCount) abandoned.push(summary.runId);
    }
    return abandoned;
  }

  async appendTrace(runId: string, lines: TraceLine[]): Promise<void> {
    if (!lines.length) return;
    await this.pool.query(
      `INSERT INTO ${this.s}.trace (run_id, at, step, text)
       SELECT $1, at, step, text FROM unnest($2::text[], $3::smallint[], $4::text[]) WITH ORDINALITY AS l(at, step, text, n) ORDER BY n`,
      [runId, lines.map((l) => l.at), lines.map((l) => l.step), lines.map((l) => l.text)],
    );
  }

  async addRejected(rows: RejectedRow[]): Promise<void> {
    if (!rows.length) return;
    const column = <K extends keyof RejectedRow>(k: K) => rows.map((r) => r[k] ?? null);
    await this.pool.query(
      `INSERT INTO ${this.s}.rejected (run_id, sync, key, category, field, code, message, retryable, at, sent)
       SELECT run_id, sync, key, category, field, code, message, retryable, at, sent::json
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::text[], $10::text[])
         WITH ORDINALITY AS r(run_id, sync, key, category, field, code, message, retryable, at, sent, n) ORDER BY n`,
      [column('runId'), column('sync'), column('key'), column('category'), column('field'), column('code'),
        column('message'), column('retryable'), column('at'), rows.map(sentJson)],
    );
  }

  async listRuns(query: RunListQuery = {}): Promise<RunSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.sync !== undefined) { params.push(query.sync); where.push(`sync = $${params.length}`); }
    if (query.before !== undefined) { params.push(query.before); where.push(`started_at < $${params.length}::timestamptz`); }
    params.push(query.limit ?? DEFAULT_RUN_LIMIT);
    const { rows } = await this.pool.query<{ summary: string }>(
      `SELECT summary::text AS summary FROM ${this.s}.runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY started_at DESC, seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => JSON.parse(r.summary) as RunSummary);
  }

  async getRun(runId: string): Promise<(RunRecord & { trace: TraceLine[] }) | undefined> {
    const run = await this.pool.query<{ summary: string; profile: string }>(
      `SELECT summary::text AS summary, profile::text AS profile FROM ${this.s}.runs WHERE run_id = $1`, [runId]);
    if (!run.rows[0]) return undefined;
    const trace = await this.pool.query<TraceLine>(
      `SELECT at, step, text FROM ${this.s}.trace WHERE run_id = $1 ORDER BY id`, [runId]);
    return {
      summary: JSON.parse(run.rows[0].summary) as RunSummary,
      profile: JSON.parse(run.rows[0].profile) as RunRecord['profile'],
      trace: trace.rows,
    };
  }

  async listRejected(runId: string, query: RejectedQuery = {}): Promise<{ total: number; rows: RejectedRow[] }> {
    const filter = query.category === undefined ? '' : 'AND category = $2';
    const params: unknown[] = query.category === undefined ? [runId] : [runId, query.category];
    const count = await this.pool.query<{ total: string }>(
      `SELECT count(*) AS total FROM ${this.s}.rejected WHERE run_id = $1 ${filter}`, params);
    const page = await this.pool.query<RejectedDbRow>(
      `SELECT ${REJECTED_COLUMNS} FROM ${this.s}.rejected
       WHERE run_id = $1 ${filter} ORDER BY ${KEY_ORDER}, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.limit ?? DEFAULT_REJECTED_LIMIT, query.offset ?? 0],
    );
    return { total: Number(count.rows[0].total), rows: page.rows.map(rejectedRow) };
  }

  async rejectedByCategory(runId: string): Promise<Partial<Record<RejectCategory, number>>> {
    const { rows } = await this.pool.query<{ category: RejectCategory; n: string }>(
      `SELECT category, count(*) AS n FROM ${this.s}.rejected WHERE run_id = $1 GROUP BY category`, [runId]);
    return Object.fromEntries(rows.map((r) => [r.category, Number(r.n)]));
  }

  async rejectedGroups(runId: string): Promise<RejectedGroup[]> {
    const { rows } = await this.pool.query<{ category: RejectCategory; code: string | null; message: string; n: string }>(
      `SELECT category, code, message, count(*) AS n FROM ${this.s}.rejected WHERE run_id = $1
       GROUP BY category, code, message ORDER BY n DESC, category, code, message LIMIT ${EXACT_GROUP_LIMIT}`, [runId]);
    return foldGroups(rows.map((r) => ({ category: r.category, ...(r.code === null ? {} : { code: r.code }), message: r.message, count: Number(r.n) })));
  }

  async latestRejections(sync: string): Promise<RejectedRow[]> {
    const { rows } = await this.pool.query<RejectedDbRow>(
      `SELECT ${REJECTED_COLUMNS} FROM (SELECT DISTINCT ON (key) * FROM ${this.s}.rejected WHERE sync = $1 ORDER BY key, id DESC) r
       ORDER BY ${KEY_ORDER}`, [sync]);
    return rows.map(rejectedRow);
  }

  async pausedAt(sync: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ at: string }>(`SELECT at FROM ${this.s}.paused WHERE sync = $1`, [sync]);
    return rows[0]?.at ?? null;
  }

  async setPaused(sync: string, at: string | null): Promise<void> {
    if (at === null) await this.pool.query(`DELETE FROM ${this.s}.paused WHERE sync = $1`, [sync]);
    else await this.pool.query(`INSERT INTO ${this.s}.paused (sync, at) VALUES ($1, $2) ON CONFLICT (sync) DO NOTHING`, [sync, at]);
  }

  async getCursor(sync: string): Promise<Value | null> {
    const { rows } = await this.pool.query<{ value: string }>(`SELECT value FROM ${this.s}.cursors WHERE sync = $1`, [sync]);
    return rows[0] ? decodeValue(rows[0].value) : null;
  }

  async setCursor(sync: string, value: Value | null): Promise<void> {
    if (value === null) await this.pool.query(`DELETE FROM ${this.s}.cursors WHERE sync = $1`, [sync]);
    else await this.pool.query(
      `INSERT INTO ${this.s}.cursors (sync, value) VALUES ($1, $2) ON CONFLICT (sync) DO UPDATE SET value = excluded.value`,
      [sync, encodeValue(value)],
    );
  }
}

const REJECTED_COLUMNS = 'run_id, sync, key, category, field, code, message, retryable, at, sent::text AS sent';
/** Keys made of digits sort as numbers (2 before 10), the others as text after them. */
const KEY_ORDER = `(CASE WHEN key ~ '^[0-9]+$' THEN key::numeric END) IS NULL, CASE WHEN key ~ '^[0-9]+$' THEN key::numeric END, key`;

interface RejectedDbRow {
  run_id: string; sync: string; key: string; category: RejectCategory; field: string | null;
  code: string | null; message: string; retryable: boolean; at: string; sent: string | null;
}

function rejectedRow(r: RejectedDbRow): RejectedRow {
  return {
    runId: r.run_id, sync: r.sync, key: r.key, category: r.category,
    ...(r.field === null ? {} : { field: r.field }),
    ...(r.code === null ? {} : { code: r.code }),
    message: r.message, retryable: r.retryable, at: r.at,
    ...(r.sent === null ? {} : { sent: JSON.parse(r.sent) as RejectedRow['sent'] }),
  };
}
