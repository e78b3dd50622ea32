import type { RejectCategory, Rejection } from '../destination.ts';
import { SyncError, type SyncErrorKind } from '../../errors.ts';

/**
 * HubSpot's answers, turned into what the engine acts on. The decision reads status,
 * category, policyName and error codes, never message text.
 */
export interface HubspotErrorContext {
  destination: string;
  /** `POST /crm/v3/objects/contacts/batch/upsert` */
  request: string;
}

/** `{status:"error", message, correlationId, category, errors:[{message, code, context}], context}` */
export interface HubspotErrorBody {
  status?: string;
  message?: string;
  category?: string;
  correlationId?: string;
  policyName?: string;
  errors?: { message?: string; code?: string; in?: string; context?: Record<string, unknown> }[];
  context?: Record<string, unknown>;
}

export interface PropertyIssue {
  code: string;
  message: string;
  property?: string;
}

/** A SyncError that also keeps HubSpot's own words, for a row's rejection message. */
export class HubspotSyncError extends SyncError {
  constructor(kind: SyncErrorKind, message: string, readonly detail: string, details: ConstructorParameters<typeof SyncError>[2]) {
    super(kind, message, details);
  }
}

const DEFAULT_WINDOW_MS = 10_000;

export function hubspotError(status: number, raw: unknown, headers: Headers, ctx: HubspotErrorContext): HubspotSyncError {
  const body: HubspotErrorBody = typeof raw === 'object' && raw !== null ? (raw as HubspotErrorBody) : {};
  const said = body.message ?? (typeof raw === 'string' && raw ? raw.slice(0, 200) : `HTTP ${status}`);
  const category = body.category;
  const head = `destination "${ctx.destination}": HubSpot answered ${status}${category ? ` ${category}` : ''} to ${ctx.request}`;
  const make = (kind: SyncErrorKind, advice: string, detail: string, extra: Omit<NonNullable<ConstructorParameters<typeof SyncError>[2]>, 'status'> = {}) =>
    new HubspotSyncError(kind, `${head}: ${detail}${advice ? `; ${advice}` : ''}`, detail, { status, code: category ?? String(status), ...extra });

  if (status === 401) {
    return make('config', 'check the destination\'s "token": a revoked or rotated private app token must be replaced', said, { code: category ?? 'INVALID_AUTHENTICATION' });
  }
  if (status === 403) {
    return make('config', 'give the private app the crm.objects.*.write and crm.schemas.*.read scopes of this object', said);
  }
  if (status === 429) {
    const policy = body.policyName ?? 'TEN_SECONDLY_ROLLING';
    if (policy === 'DAILY') {
      const limit = numberHeader(headers, 'x-hubspot-ratelimit-daily');
      const used = limit === undefined ? '' : ` (daily API limit used: ${limit - (numberHeader(headers, 'x-hubspot-ratelimit-daily-remaining') ?? 0)}/${limit})`;
      // The engine adds how many rows wait for the next run.
      return make('quota', 'it resets at midnight in the portal\'s time zone', `HubSpot's daily request limit is used up${used}`, { code: 'DAILY', category: 'rate_limit' });
    }
    return make('rate_limited', '', `${said} (policy ${policy})`, { code: policy, category: 'rate_limit', retryAfterMs: retryAfterMs(policy, headers) });
  }
  if (status >= 500) {
    return make('transient', 'it will be retried', said, { category: 'destination_error' });
  }
  const issues = propertyIssues(body);
  const unusable = issues.find((i) => i.code === 'PROPERTY_DOESNT_EXIST' || i.code === 'READ_ONLY_VALUE');
  if (unusable) {
    return make('config', `remove "${unusable.property}" from the sync's mapping, or create the property in HubSpot`, unusable.message, { code: unusable.code, field: unusable.property });
  }
  if (category === 'OBJECT_NOT_FOUND' && hasIds(body)) {
    return make('terminal', '', said, { code: 'OBJECT_NOT_FOUND', category: 'missing_identifier' });
  }
  if (status === 404) {
    return make('config', 'check the destination\'s "baseUrl" and the sync\'s "object"', said);
  }
  if (category === 'CONFLICT') return make('terminal', '', said, { code: 'CONFLICT', category: 'invalid_row' });
  if (issues.length) {
    const detail = issues.map((i) => i.message + (i.property ? ` (${i.property})` : '')).join('; ');
    const one = issues.length === 1 ? issues[0] : undefined;
    return make('terminal', '', detail, { code: one?.code ?? category ?? 'VALIDATION_ERROR', field: one?.property, category: 'schema_mismatch' });
  }
  return make('terminal', '', said, { category: category === 'VALIDATION_ERROR' ? 'invalid_row' : 'destination_error' });
}

/** The rejection of a row whose request alone failed with `error`. */
export function rejectionOf(error: SyncError): Rejection {
  const retryable = error.kind === 'transient' || error.kind === 'rate_limited';
  return {
    category: error.category ?? 'destination_error',
    message: error instanceof HubspotSyncError ? error.detail : error.message,
    ...(error.code ? { code: error.code } : {}),
    ...(error.field ? { field: error.field } : {}),
    retryable,
  };
}

/** One failed input of a 207 multi-status answer, as a rejection. */
export function batchErrorRejection(error: HubspotErrorBody): Rejection {
  const issues = propertyIssues(error);
  const category = rejectCategory(error.category);
  const one = issues.length === 1 ? issues[0] : undefined;
  return {
    category,
    message: issues.length ? issues.map((i) => i.message).join('; ') : (error.message ?? 'HubSpot refused this record'),
    code: one?.code ?? error.category ?? 'ERROR',
    ...(one?.property ? { field: one.property } : {}),
    retryable: category === 'destination_error',
  };
}

function rejectCategory(category: string | undefined): RejectCategory {
  if (category === 'VALIDATION_ERROR') return 'schema_mismatch';
  if (category === 'OBJECT_NOT_FOUND') return 'missing_identifier';
  if (category === 'CONFLICT') return 'invalid_row';
  return 'destination_error';
}

/**
 * Failed properties, from `errors[]` (code, context.propertyName) or, in older answers, from
 * the JSON list inside "Property values were not valid: [{…error, name…}]".
 */
export function propertyIssues(body: HubspotErrorBody): PropertyIssue[] {
  const listed = (body.errors ?? [])
    .filter((e) => typeof e.code === 'string')
    .map((e) => {
      const names = e.context?.propertyName;
      const property = Array.isArray(names) ? String(names[0]) : e.in;
      return { code: e.code!, message: e.message ?? e.code!, ...(property ? { property } : {}) };
    });
  if (listed.length) return listed;
  const legacy = /^[^[]*(\[.*\])\s*$/s.exec(body.message ?? '')?.[1];
  if (!legacy) return [];
  try {
    const parsed = JSON.parse(legacy) as { error?: string; message?: string; name?: string }[];
    return parsed
      .filter((p) => typeof p.error === 'string')
      .map((p) => ({ code: p.error!, message: p.message ?? p.error!, ...(p.name ? { property: p.name } : {}) }));
  } catch {
    return [];
  }
}

/** The input ids an error names (`context.ids`), or the objectWriteTraceIds of a multi-status error. */
export function contextValues(error: HubspotErrorBody, key: 'ids' | 'objectWriteTraceId'): string[] {
  const values = error.context?.[key];
  return Array.isArray(values) ? values.map(String) : [];
}

function hasIds(body: HubspotErrorBody): boolean {
  return contextValues(body, 'ids').length > 0;
}

/** How long until a request can pass again: Retry-After if given, else until the window turns. */
function retryAfterMs(policy: string, headers: Headers): number {
  const retryAfter = numberHeader(headers, 'retry-after');
  if (retryAfter !== undefined) return retryAfter * 1000;
  if (policy === 'SECONDLY') return 1000;
  return numberHeader(headers, 'x-hubspot-ratelimit-interval-milliseconds') ?? DEFAULT_WINDOW_MS;
}

function numberHeader(headers: Headers, name: string): number | undefined {
  const raw = headers.get(name);
  const value = raw === null || raw.trim() === '' ? NaN : Number(raw);
  return Number.isFinite(value) ? value : undefined;
}
