import type { Rejection, RejectCategory } from '../destination.ts';
import { SyncError, type SyncErrorKind } from '../../errors.ts';

/** One error as Salesforce writes it in a per-record result (`statusCode`) or a whole answer (`errorCode`). */
export interface SalesforceRecordError {
  statusCode: string;
  message: string;
  fields?: string[];
}

/** The row's values cannot be what the field needs: fix the model or the mapping. */
const SCHEMA_MISMATCH = new Set([
  'STRING_TOO_LONG', 'INVALID_EMAIL_ADDRESS', 'INVALID_TYPE_ON_FIELD_IN_RECORD', 'REQUIRED_FIELD_MISSING',
  'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', 'NUMBER_OUTSIDE_VALID_RANGE', 'INVALID_FIELD',
  'INVALID_FIELD_FOR_INSERT_UPDATE', 'FIELD_INTEGRITY_EXCEPTION', 'JSON_PARSER_ERROR', 'INVALID_TYPE',
]);
/** The record to update or delete is not there (or the id cannot be one). */
const MISSING_IDENTIFIER = new Set([
  'NOT_FOUND', 'ENTITY_IS_DELETED', 'MALFORMED_ID', 'INVALID_CROSS_REFERENCE_KEY', 'INVALID_ID_FIELD', 'MISSING_ARGUMENT',
]);
/** Momentary: the same row goes through on a later try. */
const RETRYABLE = new Set(['UNABLE_TO_LOCK_ROW', 'SERVER_UNAVAILABLE', 'REQUEST_RUNNING_TOO_LONG', 'QUERY_TIMEOUT']);

export function rejectionFor(error: SalesforceRecordError): Rejection {
  const code = error.statusCode;
  const category: RejectCategory = SCHEMA_MISMATCH.has(code)
    ? 'schema_mismatch'
    : MISSING_IDENTIFIER.has(code) ? 'missing_identifier' : 'destination_error';
  const field = error.fields?.find(Boolean);
  return { category, code, message: error.message, retryable: RETRYABLE.has(code), ...(field ? { field } : {}) };
}

/**
 * Bulk API 2.0 writes a failed row's error as one CSV cell:
 * `STRING_TOO_LONG:Last Name: data value too large: … (max length=80):LastName --`.
 */
export function parseBulkError(cell: string): SalesforceRecordError {
  const text = cell.replace(/\s*--\s*$/, '');
  const first = text.indexOf(':');
  if (first < 0) return { statusCode: text || 'UNKNOWN_EXCEPTION', message: text };
  const statusCode = text.slice(0, first);
  let message = text.slice(first + 1);
  let fields: string[] = [];
  const last = message.lastIndexOf(':');
  if (last >= 0 && /^[A-Za-z0-9_,]*$/.test(message.slice(last + 1))) {
    fields = message.slice(last + 1).split(',').filter(Boolean);
    message = message.slice(0, last);
  }
  return { statusCode, message: message.trim(), fields };
}

/** A whole-request error body: `[{"message": "…", "errorCode": "…"}]` (or OAuth's `{error, error_description}`). */
export function firstError(body: unknown): { code: string; message: string } | undefined {
  const item = Array.isArray(body) ? body[0] : body;
  if (!item || typeof item !== 'object') return undefined;
  const record = item as Record<string, unknown>;
  const code = record.errorCode ?? record.error;
  const message = record.message ?? record.error_description ?? '';
  return typeof code === 'string' ? { code, message: String(message) } : undefined;
}

/** Turns a whole-request failure into the kind the delivery engine acts on. */
export function requestError(
  destination: string,
  what: string,
  status: number,
  body: unknown,
  headers: Headers,
): SyncError {
  const error = firstError(body) ?? { code: String(status), message: typeof body === 'string' ? body.slice(0, 200) : '' };
  const answered = `destination "${destination}": Salesforce answered ${status} ${error.code}${error.message ? ` (${error.message})` : ''} to ${what}`;
  const details = { code: error.code, status };
  if (error.code === 'REQUEST_LIMIT_EXCEEDED') {
    const usage = /(?:^|[\s,])api-usage=(\d+)\/(\d+)/.exec(headers.get('sforce-limit-info') ?? '');
    const used = usage ? `daily API quota used: ${count(Number(usage[1]))}/${count(Number(usage[2]))}` : error.message;
    // The engine adds how many rows wait for the next run.
    return new SyncError('quota', `destination "${destination}": Salesforce answered REQUEST_LIMIT_EXCEEDED (${used})`, { ...details, category: 'rate_limit' });
  }
  if (error.code === 'UNABLE_TO_LOCK_ROW' || status >= 500) return new SyncError('transient', answered, details);
  if (status === 429) {
    const seconds = Number(headers.get('retry-after'));
    return new SyncError('rate_limited', answered, { ...details, retryAfterMs: Number.isFinite(seconds) ? seconds * 1000 : undefined });
  }
  const kind: SyncErrorKind = CONFIG_CODES.has(error.code) || status === 401 || status === 403 || status === 404 ? 'config' : 'terminal';
  const advice = kind === 'config' ? '; check the sync\'s object and mapping, and the connected app\'s permissions' : '';
  return new SyncError(kind, answered + advice, {
    ...details,
    category: SCHEMA_MISMATCH.has(error.code) ? 'schema_mismatch' : 'destination_error',
  });
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** Whole-request codes that no retry fixes: the object, a field or the access is wrong. */
const CONFIG_CODES = new Set([
  'NOT_FOUND', 'INVALID_TYPE', 'INVALID_FIELD', 'INSUFFICIENT_ACCESS', 'API_DISABLED_FOR_ORG', 'API_CURRENTLY_DISABLED',
  'INVALID_SESSION_ID', 'FUNCTIONALITY_NOT_ENABLED',
]);
