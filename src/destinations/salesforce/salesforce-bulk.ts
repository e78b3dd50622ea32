import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { Change, Operation, RecordResult } from '../destination.ts';
import { SyncError } from '../../errors.ts';
import type { CallScope } from './salesforce-client.ts';
import { parseBulkError, rejectionFor } from './salesforce-errors.ts';
import { missing, payloadOf, present, resolveIds, type WriteSetup } from './salesforce-targets.ts';
import { csvValue } from './salesforce-values.ts';

/** Bulk API 2.0 takes 150 MB of CSV per job; stay clear of it. */
const MAX_CSV_BYTES = 100 * 1024 * 1024;
const FINAL_STATES = new Set(['JobComplete', 'Failed', 'Aborted']);

export interface BulkTiming {
  /** First wait before a job poll; later ones follow the job's progress, up to maxPollMs. */
  pollMs: number;
  maxPollMs: number;
}

/** Polls land this much after the estimated end: a poll just before it is one call wasted. */
const ESTIMATE_MARGIN = 1.1;

interface JobInfo {
  id: string;
  state: string;
  numberRecordsProcessed?: number;
  numberRecordsFailed?: number;
  errorMessage?: string;
}

interface Sent {
  /** The column results are matched back on (Id, the external id), or every column (inserts). */
  correlate: (record: Record<string, string>) => string;
  /** Correlation value -> keys of the changes sent with it, in order. */
  keys: Map<string, string[]>;
  /** Change key -> the Id it was sent with (updates, deletes). */
  ids: Map<string, string>;
  count: number;
}

/**
 * Writes changes of one operation as one Bulk API 2.0 ingest job (more only past 100 MB):
 * create the job, PUT the CSV, mark it UploadComplete, poll until it ends, then read
 * failedResults (and successfulResults when Ids are needed) back into per-record outcomes.
 */
export async function writeBulk(
  setup: WriteSetup,
  scope: CallScope & { trace(text: string): void },
  op: Operation,
  changes: Change[],
  timing: BulkTiming,
): Promise<RecordResult[]> {
  const results: RecordResult[] = [];
  let rows: { change: Change; id?: string }[] = [];
  if (op === 'update' || op === 'delete' || (op === 'upsert' && (!setup.externalIdField || setup.externalIdField === 'Id'))) {
    const { targets, rejected } = await resolveIds(setup, scope, changes);
    results.push(...rejected);
    rows = targets;
    if (op === 'upsert') op = 'update';
  } else if (op === 'upsert') {
    const field = setup.externalIdField!;
    for (const change of changes) {
      if (present(change.match[field])) rows.push({ change });
      else results.push(missing(change.key, 'MISSING_ARGUMENT', `${field} is empty, and upserts match on it`, field));
    }
  } else {
    rows = changes.map((change) => ({ change }));
  }
  for (const part of splitBySize(setup, op, rows)) results.push(...(await runJob(setup, scope, op, part, timing)));
  return results;
}

function columnsOf(op: Operation, rows: { change: Change }[]): string[] {
  if (op === 'delete') return ['Id'];
  const names = new Set<string>();
  for (const { change } of rows) for (const name of Object.keys(payloadOf(change))) if (name !== 'Id') names.add(name);
  return op === 'update' ? ['Id', ...names] : [...names];
}

function toCsv(setup: WriteSetup, op: Operation, rows: { change: Change; id?: string }[]): { csv: string; sent: Sent } {
  const columns = columnsOf(op, rows);
  const ext = setup.externalIdField;
  const byColumn = op === 'upsert' && ext ? ext : op === 'insert' ? undefined : 'Id';
  const correlate = byColumn
    ? (record: Record<string, string>) => (record[byColumn] ?? '').toLowerCase()
    : (record: Record<string, string>) => JSON.stringify(columns.map((column) => record[column] ?? ''));
  const sent: Sent = { correlate, keys: new Map(), ids: new Map(), count: rows.length };
  const lines = rows.map(({ change, id }) => {
    const payload = payloadOf(change);
    const cells = columns.map((column) =>
      column === 'Id' && id ? id : column in payload ? csvValue(payload[column], setup.fields.get(column)) : '');
    const record = Object.fromEntries(columns.map((column, index) => [column, cells[index]]));
    const key = correlate(record);
    const same = sent.keys.get(key);
    if (same) same.push(change.key);
    else sent.keys.set(key, [change.key]);
    if (id) sent.ids.set(change.key, id);
    return cells;
  });
  return { csv: stringify([columns, ...lines], { record_delimiter: 'unix' }), sent };
}

function* splitBySize(setup: WriteSetup, op: Operation, rows: { change: Change; id?: string }[]): Generator<{ csv: string; sent: Sent }> {
  if (!rows.length) return;
  const built = toCsv(setup, op, rows);
  if (Buffer.byteLength(built.csv) <= MAX_CSV_BYTES || rows.length === 1) {
    yield built;
    return;
  }
  const half = Math.ceil(rows.length / 2);
  yield* splitBySize(setup, op, rows.slice(0, half));
  yield* splitBySize(setup, op, rows.slice(half));
}

async function runJob(
  setup: WriteSetup,
  scope: CallScope & { trace(text: string): void },
  op: Operation,
  { csv, sent }: { csv: string; sent: Sent },
  timing: BulkTiming,
): Promise<RecordResult[]> {
  const { client, object } = setup;
  const spec = {
    object, operation: op, contentType: 'CSV', lineEnding: 'LF', columnDelimiter: 'COMMA',
    ...(op === 'upsert' ? { externalIdFieldName: setup.externalIdField } : {}),
  };
  const { body: created } = await client.request<JobInfo>(scope, 'POST', '/jobs/ingest', { json: spec });
  const path = `/jobs/ingest/${created.id}`;
  await client.request(scope, 'PUT', `${path}/batches`, { csv });
  await client.request(scope, 'PATCH', path, { json: { state: 'UploadComplete' } });
  scope.trace(`Bulk job ${created.id}: ${op} ${sent.count.toLocaleString('en-US')} ${object} rows uploaded (${Math.ceil(Buffer.byteLength(csv) / 1024).toLocaleString('en-US')} KB)`);

  let job = created;
  let wait = timing.pollMs;
  const closedAt = Date.now();
  for (let state = 'UploadComplete'; !FINAL_STATES.has(job.state);) {
    await sleep(wait, undefined, { signal: scope.signal });
    job = (await client.request<JobInfo>(scope, 'GET', path)).body;
    if (job.state !== state) scope.trace(`Bulk job ${job.id}: ${(state = job.state)}`);
    wait = nextPollDelay(job.numberRecordsProcessed ?? 0, sent.count, Date.now() - closedAt, wait, timing);
  }
  const processed = job.numberRecordsProcessed ?? 0;
  const failed = job.numberRecordsFailed ?? 0;
  scope.trace(`Bulk job ${job.id}: ${job.state}, ${processed.toLocaleString('en-US')} processed, ${failed.toLocaleString('en-US')} failed${job.errorMessage ? ` (${job.errorMessage})` : ''}`);
  if (job.state !== 'JobComplete' && processed === 0) {
    const kind = /InvalidBatch|InvalidJob|Field name not found|not found/i.test(job.errorMessage ?? '') ? 'config' : 'transient';
    throw new SyncError(kind, `destination "${setup.destination}": Salesforce Bulk job ${job.id} ended ${job.state}${job.errorMessage ? `: ${job.errorMessage}` : ''}`, { code: job.state });
  }

  const outcomes = new Map<string, RecordResult>();
  if (failed > 0) {
    for (const record of await readCsv(setup, scope, `${path}/failedResults/`)) {
      const key = take(sent, record);
      if (key) outcomes.set(key, { key, outcome: 'rejected', rejection: rejectionFor(parseBulkError(record.sf__Error ?? '')) });
    }
  }
  // Updates and deletes already know their Ids: when every row was processed, what did not fail arrived.
  const knowsIds = op === 'update' || op === 'delete';
  if (knowsIds && job.state === 'JobComplete' && processed === sent.count) {
    for (const keys of sent.keys.values()) {
      for (const key of keys) if (!outcomes.has(key)) outcomes.set(key, { key, outcome: 'delivered', destId: sent.ids.get(key) });
    }
  } else if (processed > failed) {
    for (const record of await readCsv(setup, scope, `${path}/successfulResults/`)) {
      const key = take(sent, record);
      if (key) outcomes.set(key, { key, outcome: 'delivered', destId: record.sf__Id || sent.ids.get(key) });
    }
  }
  const results = [...outcomes.values()];
  for (const keys of sent.keys.values()) {
    for (const key of keys) {
      if (outcomes.has(key)) continue;
      results.push({
        key, outcome: 'rejected',
        rejection: { category: 'destination_error', code: job.state, retryable: true, message: `Bulk job ${job.id} ended ${job.state} before processing this row${job.errorMessage ? ` (${job.errorMessage})` : ''}` },
      });
    }
  }
  return results;
}

/**
 * Every status poll is an API call, so poll when the job should be done: once it reports
 * progress, at the end its pace predicts; before that, at waits growing by half.
 */
export function nextPollDelay(processed: number, total: number, elapsedMs: number, previousMs: number, timing: BulkTiming): number {
  const estimate = processed > 0 ? (Math.max(0, total - processed) * elapsedMs * ESTIMATE_MARGIN) / processed : previousMs * 1.5;
  return Math.round(Math.min(timing.maxPollMs, Math.max(timing.pollMs, estimate)));
}

async function readCsv(setup: WriteSetup, scope: CallScope, path: string): Promise<Record<string, string>[]> {
  const { body } = await setup.client.request<string>(scope, 'GET', path);
  if (typeof body !== 'string' || !body.trim()) return [];
  return parse(body, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Record<string, string>[];
}

/** The next change sent with this result row's correlation value. */
function take(sent: Sent, record: Record<string, string>): string | undefined {
  const key = sent.correlate(record);
  const keys = sent.keys.get(key);
  const first = keys?.shift();
  if (keys && !keys.length) sent.keys.delete(key);
  return first;
}
