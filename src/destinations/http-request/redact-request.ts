import type { RequestPreview } from '../destination.ts';
import { redact } from '../../config/redact.ts';

/** Headers that carry credentials, whatever their value. */
const SENSITIVE_HEADER = /authorization|api[-_]?key|token|secret|password|cookie|signature/i;

/** A request fit to show: credential headers masked, secret setting values replaced everywhere. */
export function redactRequest(request: RequestPreview, secrets: string[]): RequestPreview {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) =>
    [name, SENSITIVE_HEADER.test(name) ? '***' : redact(value, secrets)]));
  return {
    ...request,
    url: redact(request.url, secrets),
    headers,
    ...(request.body !== undefined ? { body: redact(request.body, secrets) } : {}),
  };
}
