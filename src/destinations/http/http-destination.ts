import { createHash } from 'node:crypto';
import type { Capabilities, Change, Destination, RecordResult, WriteContext } from '../destination.ts';
import type { Value } from '../../sources/source.ts';
import { SyncError } from '../../errors.ts';
import { answerError, header, limitsOf, recordResults } from './http-answer.ts';
import { HttpClient, redactUrl } from './http-client.ts';
import type { HttpConnection } from './http-settings.ts';
import { unmeantAnswer } from '../unmeant-answer.ts';

/** Most records in one bulk request; the sync's `batch.size` picks a size under it. */
export const HTTP_MAX_BATCH = 1_000;

/**
 * Sends changes to an HTTP endpoint (a webhook, an internal bulk API).
 * Body: a JSON array of `{ op, key, ...match, ...fields }` (or `{ [bodyKey]: [...] }`;
 * with `perRecord`, the single object). Deletes go to `delete.url` / `delete.method`
 * (default: same url, DELETE) as `{ op: "delete", key, ...match }`. bigint values are sent
 * as strings of digits, binary as base64.
 */
export class HttpDestination implements Destination {
  readonly type = 'http';
  readonly capabilities: Capabilities;
  readonly budgetKey: string;
  private readonly client: HttpClient;

  constructor(readonly name: string, private readonly conn: HttpConnection) {
    this.capabilities = {
      operations: ['insert', 'update', 'upsert', 'delete'],
      maxBatchSize: conn.perRecord ? 1 : HTTP_MAX_BATCH,
      perRecordResults: conn.perRecord || conn.results !== undefined,
      // With Idempotency-Key the endpoint can drop a repeat, so retrying any write is safe.
      ...(conn.idempotencyKey ? { retrySafe: ['insert', 'update', 'upsert', 'delete'] as const } : {}),
    };
    // The limit belongs to the endpoint's host and the credential in the headers (hashed, never shown).
    const credential = createHash('sha256').update(JSON.stringify(Object.entries(conn.headers).sort())).digest('hex').slice(0, 16);
    this.budgetKey = `http:${new URL(conn.url).origin}:${credential}`;
    this.client = new HttpClient({ name, headers: conn.headers, timeoutMs: conn.timeoutMs, signing: conn.signing });
  }

  /** Reaches the endpoint; a refused connection or 401/403 is a config error. Sends no record. */
  async check(signal: AbortSignal): Promise<void> {
    const where = `HEAD ${redactUrl(this.conn.url)}`;
    let status: number;
    try {
      ({ status } = await this.client.send('HEAD', this.conn.url, undefined, signal));
    } catch (err) {
      if (signal.aborted) throw err;
      throw new SyncError('config', `destination "${this.name}": cannot reach ${where} (${(err as Error).message}); check the url and that the endpoint is up`, { cause: err });
    }
    if (status === 401 || status === 403) {
      throw new SyncError('config', `destination "${this.name}": ${where} answered ${status}; check the credentials in its headers`, { status });
    }
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const deletes = batch.filter((c) => c.op === 'delete');
    const others = batch.filter((c) => c.op !== 'delete');
    const results: RecordResult[] = [];
    if (others.length > 0) results.push(...(await this.send(this.conn.method, this.conn.url, others, ctx)));
    if (deletes.length > 0) {
      const method = this.conn.delete?.method ?? 'DELETE';
      results.push(...(await this.send(method, this.conn.delete?.url ?? this.conn.url, deletes, ctx)));
    }
    return results;
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async send(method: string, url: string, records: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const payload = this.conn.perRecord ? toRecord(records[0]) : records.map(toRecord);
    const wrapped = this.conn.bodyKey ? { [this.conn.bodyKey]: payload } : payload;
    // The replacer is only needed for bigint and binary values; without it JSON.stringify is twice as fast.
    const body = JSON.stringify(wrapped, records.every(plainRecord) ? undefined : jsonValue);
    const where = `${method} ${redactUrl(url)}`;
    const headers = this.conn.idempotencyKey ? { 'idempotency-key': idempotencyKey(method, url, body) } : undefined;
    const answer = await ctx.request(async () => {
      const answer = await this.client.send(method, url, body, ctx.signal, headers);
      const limits = limitsOf(answer);
      if (limits) ctx.observeLimits(limits);
      if (answer.status < 200 || answer.status >= 300) throw answerError(answer, this.name, where);
      // A webhook may answer a plain-text "ok"; an HTML page means the request never got there.
      const unmeant = unmeantAnswer(this.name, where, { ...answer, contentType: header(answer, 'content-type') }, /^text\/plain$/);
      if (unmeant) throw unmeant;
      return answer;
    });
    ctx.status?.(answer.status);
    const keys = records.map((r) => r.key);
    if (this.conn.results) return recordResults(answer, keys, this.conn.results, this.name, where);
    return keys.map((key) => ({ key, outcome: 'delivered' as const }));
  }
}

/** The same for every retry of one request (and for a later run sending exactly the same request). */
export function idempotencyKey(method: string, url: string, body: string): string {
  return createHash('sha256').update(`${method} ${url}\n${body}`).digest('hex').slice(0, 32);
}

/** Every value is a string, number, boolean or null: JSON.stringify writes it as is. */
function plainRecord(change: Change): boolean {
  return plainValues(change.match) && (change.op === 'delete' || plainValues(change.fields));
}

function plainValues(record: Record<string, Value>): boolean {
  for (const key in record) {
    const value = record[key];
    if (value !== null && (typeof value === 'object' || typeof value === 'bigint')) return false;
  }
  return true;
}

/** The shape of one record on the wire. */
function toRecord(change: Change): Record<string, Value> {
  const fields = change.op === 'delete' ? {} : change.fields;
  return { op: change.op, key: change.key, ...change.match, ...fields };
}

/** JSON for Values: bigint as a digit string, binary as base64. */
export function jsonValue(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (typeof raw === 'bigint') return raw.toString();
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('base64');
  return value;
}
