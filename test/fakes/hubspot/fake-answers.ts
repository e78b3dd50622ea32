import { randomUUID } from 'node:crypto';
import type { PropertyIssue } from './fake-validation.ts';

/** An HTTP answer before it is written: status and JSON body (undefined for 204). */
export interface Answer {
  status: number;
  body?: unknown;
}

/** HubSpot's error body: every field optional for clients, all present here. */
export function errorAnswer(status: number, category: string, message: string, extra: Record<string, unknown> = {}): Answer {
  return { status, body: { status: 'error', message, correlationId: randomUUID(), category, ...extra } };
}

/**
 * A 400 for property values, as the CRM object APIs give it: the summary message embeds the
 * legacy validation results, `errors` lists each with a code and the property at fault.
 */
export function validationAnswer(issues: PropertyIssue[]): Answer {
  const legacy = issues.map((i) => ({ isValid: false, message: i.message, error: i.code, name: i.name }));
  return errorAnswer(400, 'VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(legacy)}`, {
    errors: issues.map((i) => ({ message: i.message, code: i.code, context: { propertyName: [i.name] } })),
  });
}

/** One failed input of a multi-status (207) answer. */
export function batchError(category: string, message: string, context: Record<string, string[]>, issues: PropertyIssue[] = []): unknown {
  return {
    status: 'error',
    category,
    message,
    context,
    ...(issues.length
      ? { errors: issues.map((i) => ({ message: i.message, code: i.code, context: { propertyName: [i.name] } })) }
      : {}),
  };
}

export function unauthorizedAnswer(): Answer {
  return errorAnswer(
    401,
    'INVALID_AUTHENTICATION',
    'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
  );
}

export function rateLimitedAnswer(policyName: 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY'): Answer {
  const message = {
    TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
    SECONDLY: 'You have reached your secondly limit.',
    DAILY: 'You have reached your daily limit.',
  }[policyName];
  return {
    status: 429,
    body: { status: 'error', message, errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName, requestId: randomUUID() },
  };
}
