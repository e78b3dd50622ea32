import { STATUS_CODES } from 'node:http';
import type { RateLimitObservation, RecordResult, Rejection } from '../destination.ts';
import { SyncError, type SyncErrorKind } from '../../errors.ts';
import { refusalCategory } from '../refusal-category.ts';
import { parseRetryAfter } from '../../delivery/retry-after.ts';
import { header, limitsOf, readError } from '../http/http-answer.ts';
import type { HttpAnswer } from '../http/http-client.ts';
import type { CompiledResults, CompiledSpec } from './compile-spec.ts';
import type { RequestTemplate } from './request-template.ts';

/** The records of one request, in the order the request listed them. */
export interface SentRecord { key: string; id: string | undefined }

export type AnswerKind = 'success' | SyncErrorKind;

/** What a status means, from the settings' lists; other 4xx are refusals of the request (terminal). */
export function kindOf(status: number, compiled: CompiledSpec): AnswerKind {
  const s = compiled.spec.statuses ?? {};
  if ((s.success ?? []).includes(status)) return 'success';
  if ((s.rateLimited ?? [429]).includes(status)) return 'rate_limited';
  if ((s.quota ?? []).includes(status)) return 'quota';
  if ((s.config ?? [401, 403, 404, 405]).includes(status)) return 'config';
  if ((s.terminal ?? []).includes(status)) return 'terminal';
  if ((s.transient ?? [408]).includes(status) || status >= 500) return 'transient';
  return status >= 200 && status < 300 ? 'success' : 'terminal';
}

/** The SyncError a failed answer is, with the API's own message and code. */
export function answerFailure(answer: HttpAnswer, kind: SyncErrorKind, compiled: CompiledSpec, name: string, where: string): SyncError {
  const { status } = answer;
  const said = errorOf(answer, compiled);
  const reason = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  const detail = said.message ? `: ${said.message}` : '';
  const code = said.code ?? String(status);
  const head = `destination "${name}": ${where} answered ${reason}${detail}`;
  switch (kind) {
    case 'rate_limited':
      return new SyncError('rate_limited', head, { status, code, category: 'rate_limit', retryAfterMs: retryAfterMs(answer, compiled) });
    case 'quota':
      return new SyncError('quota', `${head}; the API's quota is used up`, { status, code, category: 'rate_limit' });
    case 'transient':
      return new SyncError('transient', head, { status, code, category: 'destination_error' });
    case 'config': {
      const hint = status === 404 || status === 405 ? 'check its url and method' : 'check its credentials (settings, headers)';
      return new SyncError('config', `${head}; ${hint}`, { status, code });
    }
    default:
      return new SyncError('terminal', said.message ?? `${where} answered ${reason}`, {
        status, code, field: said.field, category: refusalCategory({ code, message: said.message, field: said.field }),
      });
  }
}

/** Limits from the headers the settings name, else the standard RateLimit-* headers. */
export function limitsFrom(answer: HttpAnswer, compiled: CompiledSpec): RateLimitObservation | undefined {
  const names = compiled.spec.limitHeaders;
  if (!names) return limitsOf(answer);
  const num = (name: string | undefined) => {
    const v = name === undefined ? NaN : Number(header(answer, name.toLowerCase()));
    return Number.isFinite(v) ? v : undefined;
  };
  const observation: RateLimitObservation = {
    limit: num(names.limit),
    remaining: num(names.remaining),
    intervalMs: names.windowMs ?? compiled.spec.limits?.windowMs ?? 1000,
    dailyLimit: num(names.dailyLimit),
    dailyRemaining: num(names.dailyRemaining),
  };
  if (observation.limit === undefined && observation.dailyRemaining === undefined) return undefined;
  return Object.fromEntries(Object.entries(observation).filter(([, v]) => v !== undefined)) as RateLimitObservation;
}

/** Retry-After when sent, else the reset header the settings name. */
function retryAfterMs(answer: HttpAnswer, compiled: CompiledSpec, now = Date.now()): number | undefined {
  const retryAfter = parseRetryAfter(header(answer, 'retry-after'), now);
  if (retryAfter !== undefined) return retryAfter;
  const names = compiled.spec.limitHeaders;
  const raw = names?.reset === undefined ? undefined : Number(header(answer, names.reset.toLowerCase()));
  if (raw === undefined || !Number.isFinite(raw)) return undefined;
  switch (names!.resetUnit) {
    case 'epoch-seconds': return Math.max(0, raw * 1000 - now);
    case 'epoch-ms': return Math.max(0, raw - now);
    case 'seconds': return Math.round(raw * 1000);
    default: return Math.round(raw);
  }
}

/**
 * Per-record outcomes of a 2xx answer. Each results list names its records by position, key or
 * identifier; a listed item is a failure unless its `success` says otherwise. Records no list
 * names were delivered (when lists report every record's success, an unnamed one is retried).
 */
export function recordOutcomes(answer: HttpAnswer, sent: SentRecord[], specs: CompiledResults[], name: string, where: string): RecordResult[] {
  const body = parseBody(answer.body);
  const failed = new Map<string, Rejection>();
  const named = new Set<string>();
  const byKey = new Map(sent.map((r) => [r.key, r]));
  const byId = new Map(sent.filter((r) => r.id !== undefined).map((r) => [r.id!, r]));
  const byIdFolded = new Map(sent.filter((r) => r.id !== undefined).map((r) => [r.id!.toLowerCase(), r]));
  for (const spec of specs) {
    const list = spec.path.reduce<unknown>((v, part) => (isObject(v) ? v[part] : undefined), body);
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      throw new SyncError('config', `destination "${name}": ${where} answered ${answer.status} without a list at results.path "${spec.path.join('.')}"; fix the results settings`);
    }
    for (const item of list) {
      const scope = { item, body, status: answer.status };
      const text = (t: RequestTemplate | undefined) => (t === undefined ? undefined : t.render(scope).trim() || undefined);
      const index = text(spec.index);
      const id = text(spec.id);
      const record = index !== undefined ? sent[Number(index)]
        : spec.key ? byKey.get(text(spec.key) ?? '')
          : id !== undefined ? byId.get(id) ?? byIdFolded.get(id.toLowerCase()) : undefined;
      if (!record) continue;
      named.add(record.key);
      const success = text(spec.success);
      if (spec.success && success !== undefined && success !== 'false') continue;
      const field = text(spec.field) ?? (isObject(item) && typeof item.field === 'string' ? item.field : undefined);
      const own = isObject(item) ? item : {};
      const message = text(spec.message) ?? String(own.message ?? own.error ?? JSON.stringify(item)).slice(0, 500);
      const code = text(spec.code) ?? (own.code === undefined ? spec.path.at(-1) ?? String(answer.status) : String(own.code));
      failed.set(record.key, {
        category: spec.category ?? refusalCategory({ code, message, field }),
        message,
        code,
        ...(field ? { field } : {}),
        retryable: spec.retryable,
      });
    }
  }
  const everyListed = specs.some((s) => s.success !== undefined);
  return sent.map(({ key }): RecordResult => {
    const rejection = failed.get(key);
    if (rejection) return { key, outcome: 'rejected', rejection };
    if (everyListed && !named.has(key)) {
      return { key, outcome: 'rejected', rejection: { category: 'destination_error', retryable: true, message: `${where} answered ${answer.status} without a result for this record; it is sent again next run` } };
    }
    return { key, outcome: 'delivered' };
  });
}

function errorOf(answer: HttpAnswer, compiled: CompiledSpec): { message?: string; code?: string; field?: string } {
  const fallback = readError(answer.body);
  const templates = compiled.errors;
  if (!templates) return fallback;
  const scope = { body: parseBody(answer.body), status: answer.status };
  const text = (t: RequestTemplate | undefined) => (t === undefined ? undefined : t.render(scope).trim() || undefined);
  return {
    message: text(templates.message) ?? fallback.message,
    code: text(templates.code) ?? fallback.code,
    field: text(templates.field) ?? fallback.field,
  };
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
