import Database from 'better-sqlite3';
import type { RejectCategory } from '../../destinations/destination.ts';
import type { Value } from '../../sources/source.ts';
import type { RejectedQuery, RunListQuery } from '../state-store.ts';
import type { RejectedRow, RunRecord, RunSummary, TraceLine } from '../run-record.ts';
import { decodeValue, encodeValue } from '../value-json.ts';
import { EXACT_GROUP_LIMIT, foldGroups, sentJson, type RejectedGroup } from '../rejected-groups.ts';
import { abandonedSummary, deathOf } from '../dead-runs.ts';
import type { LockTiming } from '../lock-holder.ts';
import { RunError } from '../../errors.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  run_id TEXT PRIMARY KEY, sync TEXT NOT NULL, started_at TEXT NOT NULL, summary TEXT NOT NULL, profile TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_sync ON runs (sync, started_at);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at);
CREATE TABLE IF NOT EXISTS trace (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, at TEXT NOT NULL, step INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS trace_by_run ON trace (run_id, id);
CREATE TABLE IF NOT EXISTS rejected (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, sync TEXT NOT NULL, key TEXT NOT NULL,
  category TEXT NOT NULL, field TEXT, code TEXT, message TEXT NOT NULL, retryable INTEGER NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rejected_by_run ON rejected (run_id, category, id);
CREATE INDEX IF NOT EXISTS rejected_by_sync ON rejected (sync, key, id);
CREATE TABLE IF NOT EXISTS cursors (sync TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS paused (sync TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS locks (
  sync TEXT PRIMARY KEY, run_id TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, heartbeat_at INTEGER NOT NULL);
`;

const DEFAULT_RUN_LIMIT = 100;
const DEFAULT_REJECTED_LIMIT = 100;

/**
 * Run history, trace, rejected rows, cursors and locks in one SQLite file (WAL), so a CLI
 * run and `lastmile serve` can use the same `.lastmile/` at once.
 */
export class HistoryDb {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 10000');
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
      addColumn(this.db, 'rejected', 'sent', 'TEXT');
    } catch (error) {
      throw new RunError(`cannot open the run history ${file}: ${(error as Error).message}. ` +
        'If it is damaged, move it (and its -wal, -shm files) aside: a new history starts, and the row state under syncs/ is kept', { cause: error });
    }
  }

  /** The newest finished run of `sync` that delivered rows (it left row state behind), if any. */
  lastDelivery(sync: string): string | undefined {
    const row = this.db.prepare(
      `SELECT run_id FROM runs WHERE sync = ? AND summary ->> '$.status' <> 'running' AND summary ->> '$.delivered' > 0
       ORDER BY started_at DESC LIMIT 1`,
    ).get(sync) as { run_id: string } | undefined;
    return row?.run_id;
  }

  saveRun({ summary, profile }: RunRecord): void {
    this.db.prepare(
      `INSERT INTO runs (run_id, sync, started_at, summary, profile) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET sync = excluded.sync, started_at = excluded.started_at,
         summary = excluded.summary, profile = excluded.profile`,
    ).run(summary.runId, summary.sync, isoTime(summary.startedAt), JSON.stringify(summary), JSON.stringify(profile));
  }

  /** See StateStore.abandonDeadRuns. */
  abandonDeadRuns(timing: LockTiming): string[] {
    const running = this.db.prepare(
      `SELECT r.summary, l.run_id, l.pid, l.host, l.heartbeat_at FROM runs r LEFT JOIN locks l ON l.sync = r.sync
       WHERE json_extract(r.summary, '$.status') = 'running'`,
    ).all() as { summary: string; run_id: string | null; pid: number; host: string; heartbeat_at: number }[];
    const abandoned: string[] = [];
    for (const row of running) {
      const summary = JSON.parse(row.summary) as RunSummary;
      const lock = row.run_id === null ? undefined : { sync: summary.sync, runId: row.run_id, pid: row.pid, host: row.host, heartbeatAt: row.heartbeat_at };
      const death = deathOf({ summary, lock }, timing);
      if (!death) continue;
      // Only if it still says running: the run may have finished since the read.
      const changed = this.db.prepare(`UPDATE runs SET summary = ? WHERE run_id = ? AND json_extract(summary, '$.status') = 'running'`)
        .run(JSON.stringify(abandonedSummary(summary, death)), summary.runId);
      if (changed.changes) abandoned.push(summary.runId);
    }
    return abandoned;
  }

  appendTrace(runId: string, lines: TraceLine[]): void {
    const insert = this.db.prepare('INSERT INTO trace (run_id, at, step, text) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => { for (const l of lines) insert.run(runId, l.at, l.step, l.text); })();
  }

  addRejected(rows: RejectedRow[]): void {
    const insert = this.db.prepare(
      `INSERT INTO rejected (run_id, sync, key, category, field, code, message, retryable, at, sent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of rows) {
        insert.run(r.runId, r.sync, r.key, r.category, r.field ?? null, r.code ?? null, r.message, r.retryable ? 1 : 0, r.at, sentJson(r));
      }
    })();
  }

  listRuns(query: RunListQuery = {}): RunSummary[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.sync !== undefined) { where.push('sync = ?'); params.push(query.sync); }
    if (query.before !== undefined) { where.push('started_at < ?'); params.push(isoTime(query.before)); }
    const sql = `SELECT summary FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY started_at DESC, rowid DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, query.limit ?? DEFAULT_RUN_LIMIT) as { summary: string }[];
    return rows.map((r) => JSON.parse(r.summary) as RunSummary);
  }

  getRun(runId: string): (RunRecord & { trace: TraceLine[] }) | undefined {
    const run = this.db.prepare('SELECT summary, profile FROM runs WHERE run_id = ?').get(runId) as
      { summary: string; profile: string } | undefined;
    if (!run) return undefined;
    const trace = this.db.prepare('SELECT at, step, text FROM trace WHERE run_id = ? ORDER BY id').all(runId) as TraceLine[];
    return { summary: JSON.parse(run.summary) as RunSummary, profile: JSON.parse(run.profile) as RunRecord['profile'], trace };
  }

  listRejected(runId: string, query: RejectedQuery = {}): { total: number; rows: RejectedRow[] } {
    const filter = query.category === undefined ? '' : 'AND category = ?';
    const params: unknown[] = query.category === undefined ? [runId] : [runId, query.category];
    const { total } = this.db.prepare(`SELECT count(*) AS total FROM rejected WHERE run_id = ? ${filter}`).get(...params) as { total: number };
    const rows = this.db.prepare(
      `SELECT ${REJECTED_COLUMNS} FROM rejected
       WHERE run_id = ? ${filter} ORDER BY ${KEY_ORDER}, id LIMIT ? OFFSET ?`,
    ).all(...params, query.limit ?? DEFAULT_REJECTED_LIMIT, query.offset ?? 0) as RejectedDbRow[];
    return { total, rows: rows.map(rejectedRow) };
  }

  rejectedByCategory(runId: string): Partial<Record<RejectCategory, number>> {
    const rows = this.db.prepare('SELECT category, count(*) AS n FROM rejected WHERE run_id = ? GROUP BY category')
      .all(runId) as { category: RejectCategory; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.category, r.n]));
  }

  rejectedGroups(runId: string): RejectedGroup[] {
    const rows = this.db.prepare(
      `SELECT category, code, message, count(*) AS n FROM rejected WHERE run_id = ?
       GROUP BY category, code, message ORDER BY n DESC, category, code, message LIMIT ${EXACT_GROUP_LIMIT}`,
    ).all(runId) as { category: RejectCategory; code: string | null; message: string; n: number }[];
    return foldGroups(rows.map((r) => ({ category: r.category, ...(r.code === null ? {} : { code: r.code }), message: r.message, count: r.n })));
  }

  latestRejections(sync: string): RejectedRow[] {
    const rows = this.db.prepare(
      `SELECT ${REJECTED_COLUMNS} FROM rejected r WHERE sync = ?
         AND id = (SELECT max(id) FROM rejected l WHERE l.sync = r.sync AND l.key = r.key)
       ORDER BY ${KEY_ORDER}`,
    ).all(sync) as RejectedDbRow[];
    return rows.map(rejectedRow);
  }

  pausedAt(sync: string): string | null {
    const row = this.db.prepare('SELECT at FROM paused WHERE sync = ?').get(sync) as { at: string } | undefined;
    return row?.at ?? null;
  }

  setPaused(sync: string, at: string | null): void {
    if (at === null) this.db.prepare('DELETE FROM paused WHERE sync = ?').run(sync);
    else this.db.prepare('INSERT INTO paused (sync, at) VALUES (?, ?) ON CONFLICT (sync) DO NOTHING').run(sync, at);
  }

  getCursor(sync: string): Value | null {
    const row = this.db.prepare('SELECT value FROM cursors WHERE sync = ?').get(sync) as { value: string } | undefined;
    return row ? decodeValue(row.value) : null;
  }

  setCursor(sync: string, value: Value | null): void {
    if (value === null) this.db.prepare('DELETE FROM cursors WHERE sync = ?').run(sync);
    else this.db.prepare('INSERT INTO cursors (sync, value) VALUES (?, ?) ON CONFLICT (sync) DO UPDATE SET value = excluded.value')
      .run(sync, encodeValue(value));
  }

  close(): void {
    this.db.close();
  }
}

const REJECTED_COLUMNS = 'run_id, sync, key, category, field, code, message, retryable, at, sent';
/** Keys made of digits sort as numbers (2 before 10), the others as text after them. */
const KEY_ORDER = `(CASE WHEN key <> '' AND key NOT GLOB '*[^0-9]*' THEN CAST(key AS REAL) END) IS NULL,
  CASE WHEN key <> '' AND key NOT GLOB '*[^0-9]*' THEN CAST(key AS REAL) END, key`;

function addColumn(db: Database.Database, table: string, column: string, type: string): void {
  const columns = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[];
  if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

interface RejectedDbRow {
  run_id: string; sync: string; key: string; category: RejectCategory; field: string | null;
  code: string | null; message: string; retryable: number; at: string; sent: string | null;
}

function rejectedRow(r: RejectedDbRow): RejectedRow {
  return {
    runId: r.run_id, sync: r.sync, key: r.key, category: r.category,
    ...(r.field === null ? {} : { field: r.field }),
    ...(r.code === null ? {} : { code: r.code }),
    message: r.message, retryable: r.retryable === 1, at: r.at,
    ...(r.sent === null ? {} : { sent: JSON.parse(r.sent) as RejectedRow['sent'] }),
  };
}

/** Sortable UTC form of an ISO time, so "newest first" and "before" compare instants, not text. */
export function isoTime(text: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new TypeError(`"${text}" is not an ISO date-time`);
  return new Date(ms).toISOString();
}
