import { createHash, randomUUID } from 'node:crypto';
import type { SyncConfig } from '../../config/project.ts';
import type {
  Capabilities, Change, Destination, FieldSpec, Operation, RecordResult, RequestPreview, WriteContext,
} from '../destination.ts';
import { SyncError } from '../../errors.ts';
import { operationsOf } from '../../engine/sync-modes.ts';
import { HttpClient, redactUrl, type HttpAnswer } from '../http/http-client.ts';
import { header } from '../http/http-answer.ts';
import { unmeantAnswer } from '../unmeant-answer.ts';
import type { CompiledOperation, CompiledSpec } from './compile-spec.ts';
import { answerFailure, kindOf, limitsFrom, recordOutcomes, type SentRecord } from './http-request-answer.ts';
import { fieldsFromAnswer } from './describe-fields.ts';
import { jsonSyntaxError } from './json-syntax.ts';
import { redactRequest } from './redact-request.ts';
import { templateRecord, type TemplateRecord } from './template-record.ts';

const CONTENT_TYPES: Record<string, string> = { json: 'application/json', form: 'application/x-www-form-urlencoded', xml: 'application/xml', text: 'text/plain' };

/** One request, rendered. */
interface Rendered { op: CompiledOperation; records: Change[]; method: string; url: string; headers: Record<string, string>; body?: string }

/**
 * Any HTTP API as a destination: each operation's request rendered from its Liquid templates
 * over the batch, its answer read as the settings say (per-record results, error bodies,
 * statuses, limit headers). It reports and throws exactly what the built-in destinations do,
 * so the engine paces, retries, splits and categorises rejections the same way.
 */
export class HttpRequestDestination implements Destination {
  readonly type = 'http-request';
  readonly capabilities: Capabilities;
  readonly budgetKey: string;
  private readonly client: HttpClient;
  /** Idempotency keys of writes outside a delivery (no batchId): stable for this destination's life. */
  private readonly nonce = randomUUID();
  /** The settings' own headers name the content type: a request's must not add a second one. */
  private readonly setsContentType: boolean;

  constructor(readonly name: string, private readonly compiled: CompiledSpec, private readonly sync: SyncConfig) {
    const used = operationsOf(sync.mode);
    const ops = Object.values(compiled.operations).filter((op) => used.includes(op.name));
    if (ops.length === 0) ops.push(...Object.values(compiled.operations));
    const limits = compiled.spec.limits;
    this.capabilities = {
      operations: Object.keys(compiled.operations) as Operation[],
      maxBatchSize: Math.max(...ops.map((op) => op.batchSize)),
      ...(limits ? { rateLimit: limits } : {}),
      perRecordResults: ops.every((op) => op.batchSize === 1 || (op.results ?? compiled.results) !== undefined),
      retrySafe: compiled.retrySafe,
    };
    this.setsContentType = Object.keys(compiled.headers).some((h) => h.toLowerCase() === 'content-type');
    const origin = originOf(compiled.baseUrl || ops[0]!.url.text);
    const credential = createHash('sha256').update(JSON.stringify([compiled.headers, compiled.resolved.secrets])).digest('hex').slice(0, 16);
    this.budgetKey = `http-request:${origin}:${credential}`;
    this.client = new HttpClient({ name, headers: compiled.headers, timeoutMs: compiled.spec.timeoutMs, secrets: compiled.resolved.secrets });
  }

  /** Sends the settings' check request (default HEAD of the base URL): a refused connection or a config status fails. */
  async check(signal: AbortSignal): Promise<void> {
    const missing = operationsOf(this.sync.mode).find((op) => !this.compiled.operations[op]);
    if (missing) throw this.lacks(missing);
    const check = this.compiled.check ?? { method: 'HEAD', url: this.compiled.baseUrl || Object.values(this.compiled.operations)[0]!.url.text };
    const url = this.absolute(check.url);
    const where = `${check.method} ${redactUrl(url)}`;
    let answer: HttpAnswer;
    try {
      answer = await this.client.send(check.method, url, check.body, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const said = err instanceof SyncError ? err.message : `destination "${this.name}": cannot reach ${where} (${(err as Error).message})`;
      throw new SyncError('config', `${said}; check its baseUrl and that the API is up`, { cause: err });
    }
    if (kindOf(answer.status, this.compiled) === 'config') throw answerFailure(answer, 'config', this.compiled, this.name, where);
  }

  /** The written fields' types: a static list in the settings, or the API's schema endpoint. */
  async describe(signal: AbortSignal): Promise<FieldSpec[]> {
    const setting = this.compiled.spec.describe;
    if (!setting) return [];
    const written = new Set([...Object.values(this.sync.match), ...Object.keys(this.sync.mapping)]);
    if (!this.compiled.describe) return (setting.fields ?? []).filter((f) => written.has(f.name));
    const { method, url } = this.compiled.describe;
    const where = `${method} ${redactUrl(this.absolute(url))}`;
    const answer = await this.client.send(method, this.absolute(url), undefined, signal);
    const kind = kindOf(answer.status, this.compiled);
    if (kind !== 'success') throw answerFailure(answer, kind === 'terminal' ? 'config' : kind, this.compiled, this.name, where);
    return fieldsFromAnswer(answer.body, setting, this.name, where).filter((f) => written.has(f.name));
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const requests = this.render(batch, ctx.batchId);
    const results: RecordResult[] = [];
    for (const request of requests) {
      try {
        results.push(...(await this.send(request, ctx)));
      } catch (error) {
        // One record refused for good, among other requests of this write: that record's rejection.
        if (requests.length > 1 && request.records.length === 1 && error instanceof SyncError && error.kind === 'terminal') {
          const { category = 'invalid_row', code, field, message } = error;
          results.push({ key: request.records[0]!.key, outcome: 'rejected', rejection: { category, message, retryable: false, ...(code ? { code } : {}), ...(field ? { field } : {}) } });
          continue;
        }
        throw error;
      }
    }
    return results;
  }

  preview(batch: Change[]): RequestPreview[] {
    return this.render(batch, 'preview').map((r) => redactRequest({
      operation: r.op.name, method: r.method, url: r.url, headers: { ...this.compiled.headers, ...r.headers }, ...(r.body !== undefined ? { body: r.body } : {}),
    }, this.compiled.resolved.secrets));
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** The batch's requests: records grouped by operation, in chunks of the operation's batch size. */
  private render(batch: Change[], batchId: string | undefined): Rendered[] {
    const groups = new Map<Operation, Change[]>();
    for (const change of batch) {
      const group = groups.get(change.op);
      if (group) group.push(change);
      else groups.set(change.op, [change]);
    }
    const rendered: Rendered[] = [];
    for (const [name, changes] of groups) {
      const op = this.compiled.operations[name];
      if (!op) throw this.lacks(name);
      for (let i = 0; i < changes.length; i += op.batchSize) {
        const chunk = changes.slice(i, i + op.batchSize);
        rendered.push(this.renderOne(op, chunk, idempotencyKey(batchId ?? this.nonce, name, chunk)));
      }
    }
    return rendered;
  }

  private renderOne(op: CompiledOperation, records: Change[], key: string): Rendered {
    const list: TemplateRecord[] = records.map((r) => templateRecord(r, op.readsAttributes));
    const scope = { records: list, record: list[0], settings: this.compiled.resolved.values, idempotencyKey: key, operation: op.name };
    const headers: Record<string, string> = {};
    for (const [header, template] of op.headers) headers[header] = template.render(scope);
    const idempotency = this.compiled.spec.idempotencyHeader;
    if (idempotency) headers[idempotency] = key;
    let body: string | undefined;
    if (op.body) {
      body = op.body.render(scope);
      if (!this.setsContentType) headers['content-type'] ??= CONTENT_TYPES[op.format];
      if (op.format === 'json' && !op.bodyAlwaysJson) assertJson(body, op.name);
    }
    return { op, records, method: op.method, url: this.absolute(op.url.render(scope)), headers, ...(body !== undefined ? { body } : {}) };
  }

  private async send(request: Rendered, ctx: WriteContext): Promise<RecordResult[]> {
    const { op, method, url, records } = request;
    const where = `${method} ${redactUrl(url)}`;
    const answer = await ctx.request(async () => {
      let answer: HttpAnswer;
      try {
        answer = await this.client.send(method, url, request.body, ctx.signal, request.headers);
      } catch (error) {
        if (error instanceof TypeError && !ctx.signal.aborted) {
          throw new SyncError('terminal', `the rendered request is not valid (${error.message})`, { code: 'INVALID_REQUEST', category: 'invalid_row', cause: error });
        }
        throw error;
      }
      const limits = limitsFrom(answer, this.compiled);
      if (limits) ctx.observeLimits(limits);
      const kind = kindOf(answer.status, this.compiled);
      if (kind !== 'success') throw answerFailure(answer, kind, this.compiled, this.name, where);
      // An HTML page (a captive portal, a proxy) is no API answer, whatever its status.
      const unmeant = unmeantAnswer(this.name, where, { ...answer, contentType: header(answer, 'content-type') }, /^text\/plain$/);
      if (unmeant) throw unmeant;
      return answer;
    });
    ctx.status?.(answer.status);
    const specs = op.results ?? this.compiled.results;
    if (!specs) return records.map((r) => ({ key: r.key, outcome: 'delivered' as const }));
    const sent: SentRecord[] = records.map((r) => ({ key: r.key, id: firstValue(r) }));
    return recordOutcomes(answer, sent, specs, this.name, where);
  }

  /** The sync's mode sends an operation these settings do not write out. */
  private lacks(op: Operation): SyncError {
    const has = Object.keys(this.compiled.operations).join(', ');
    const from = this.compiled.resolved.preset ? ` (preset ${this.compiled.resolved.preset})` : '';
    return new SyncError('config', `sync "${this.sync.name}": mode ${this.sync.mode} sends ${op}s, and destination "${this.name}"${from} has no ${op} operation (it has ${has}); pick another mode or add operations.${op}`);
  }

  private absolute(url: string): string {
    if (/^https?:\/\//i.test(url)) return url;
    const base = this.compiled.baseUrl.replace(/\/+$/, '');
    return `${base}${url.startsWith('/') ? '' : '/'}${url}`;
  }
}

/** Same records, same operation, same batch: the same key, on every retry. */
export function idempotencyKey(batchId: string, op: Operation, records: Change[]): string {
  const hash = createHash('sha256').update(batchId).update('\n').update(op);
  for (const r of records) hash.update('\n').update(r.key);
  const hex = hash.digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A body that is not JSON is never sent: the row that broke it is found by splitting and rejected. */
function assertJson(body: string, op: Operation): void {
  const problem = jsonSyntaxError(body);
  if (problem) {
    throw new SyncError('terminal', `the ${op} body the template rendered is not valid JSON (${problem}); write values with | json`, { code: 'INVALID_JSON', category: 'invalid_row' });
  }
}

function firstValue(change: Change): string | undefined {
  for (const v of Object.values(change.match)) if (v !== null && v !== undefined) return String(v);
  return undefined;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
