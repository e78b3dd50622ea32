import { STATUS_CODES } from 'node:http';
import type { RateLimitObservation, RecordResult } from '../destination.ts';
import { SyncError } from '../../errors.ts';
import { parseRetryAfter } from '../../delivery/retry-after.ts';
import { refusalCategory } from '../refusal-category.ts';
import type { HttpAnswer } from './http-client.ts';
import type { HttpConnection } from './http-settings.ts';

/**
 * What an HTTP answer means for the records sent:
 * 2xx delivered (or per-record results), 429 rate_limited (Retry-After), 5xx and 408
 * transient, 401/403/404/405 config (the run stops: fix the url or credentials), any other
 * 4xx terminal with the body's own message and code (the engine splits to find the row).
 */
export function answerError(answer: HttpAnswer, name: string, where: string): SyncError {
  const { status } = answer;
  const reason = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
  const said = readError(answer.body);
  const detail = said.message ? `: ${said.message}` : '';
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(header(answer, 'retry-after'));
    return new SyncError('rate_limited', `destination "${name}": ${where} answered ${reason}${detail}`, { status, retryAfterMs, code: said.code ?? '429', category: 'rate_limit' });
  }
  if (status >= 500 || status === 408) {
    return new SyncError('transient', `destination "${name}": ${where} answered ${reason}${detail}`, { status, code: said.code ?? String(status), category: 'destination_error' });
  }
  if (status === 401 || status === 403 || status === 404 || status === 405) {
    const hint = status === 404 || status === 405 ? 'check its url and method' : 'check the credentials in its headers';
    return new SyncError('config', `destination "${name}": ${where} answered ${reason}${detail}; ${hint}`, { status, code: said.code ?? String(status) });
  }
  return new SyncError('terminal', said.message ?? `${where} answered ${reason}`, { status, code: said.code ?? String(status), field: said.field, category: refusalCategory(said) });
}

/** Per-record outcomes listed in a 2xx body; records the list does not name are delivered. */
export function recordResults(answer: HttpAnswer, keys: string[], spec: NonNullable<HttpConnection['results']>, name: string, where: string): RecordResult[] {
  let body: unknown;
  try {
    body = answer.body === '' ? undefined : JSON.parse(answer.body);
  } catch {
    body = undefined;
  }
  const items = spec.path === '' ? body : spec.path.split('.').reduce<unknown>((v, part) => (v as Record<string, unknown> | undefined)?.[part], body);
  if (!Array.isArray(items)) {
    throw new SyncError('config', `destination "${name}": ${where} answered ${answer.status} without an array at results.path "${spec.path}"; fix results.path or remove results`);
  }
  const failed = new Map<string, RecordResult>();
  for (const item of items as Record<string, unknown>[]) {
    const key = item?.[spec.keyField];
    const error = item?.[spec.errorField];
    if (key === undefined || key === null || !error) continue;
    const e = typeof error === 'object' ? (error as Record<string, unknown>) : {};
    const code = spec.codeField ? item[spec.codeField] : e.code;
    const field = typeof e.field === 'string' ? e.field : undefined;
    failed.set(String(key), {
      key: String(key), outcome: 'rejected',
      rejection: strip({
        category: refusalCategory({ message: typeof error === 'string' ? error : String(e.message ?? ''), code: code == null ? undefined : String(code), field }),
        retryable: false,
        message: typeof error === 'string' ? error : String(e.message ?? JSON.stringify(error)),
        code: code === undefined || code === null ? undefined : String(code),
        field,
      }),
    });
  }
  return keys.map((key) => failed.get(key) ?? { key, outcome: 'delivered' });
}

/** `RateLimit-Policy: 100;w=10` with `RateLimit-Remaining` (or the X- forms): a rolling window. */
export function limitsOf(answer: HttpAnswer): RateLimitObservation | undefined {
  const policy = header(answer, 'ratelimit-policy');
  const window = policy && /;\s*w=(\d+(?:\.\d+)?)/.exec(policy);
  const limit = Number(header(answer, 'ratelimit-limit') ?? header(answer, 'x-ratelimit-limit') ?? (policy ? parseFloat(policy) : NaN));
  const remaining = Number(header(answer, 'ratelimit-remaining') ?? header(answer, 'x-ratelimit-remaining'));
  if (!window || !Number.isFinite(limit) || limit <= 0) return undefined;
  return { limit, intervalMs: Number(window[1]) * 1000, remaining: Number.isFinite(remaining) ? remaining : undefined };
}

/** One header of an answer (the first, when it came more than once). */
export function header(answer: HttpAnswer, name: string): string | undefined {
  const v = answer.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The message, code and field of an error body, in the shapes APIs commonly use. */
export function readError(body: string): { message?: string; code?: string; field?: string } {
  let json: any;
  try {
    json = JSON.parse(body);
  } catch {
    const text = body.trim().slice(0, 300);
    return text ? { message: text } : {};
  }
  if (typeof json !== 'object' || json === null) return { message: String(json) };
  const inner = typeof json.error === 'object' && json.error !== null ? json.error : Array.isArray(json.errors) ? json.errors[0] ?? {} : {};
  const message = json.message ?? inner.message ?? (typeof json.error === 'string' ? json.error : undefined) ?? json.detail ?? json.title;
  const code = json.code ?? inner.code;
  const field = json.field ?? inner.field;
  return strip({
    message: message === undefined ? undefined : String(message),
    code: code === undefined ? undefined : String(code),
    field: field === undefined ? undefined : String(field),
  });
}

function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
