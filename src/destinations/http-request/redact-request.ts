import type { RequestPreview } from '../destination.ts';
import { redact, type Redactor } from '../../config/redact.ts';

/** Headers that carry credentials, whatever their value. */
const SENSITIVE_HEADER = /authorization|api[-_]?key|token|secret|password|cookie|signature/i;

/** A request fit to show: credential headers masked, secret setting values replaced everywhere. */
export function redactRequest(request: RequestPreview, secrets: string[]): RequestPreview {
  const clean: Redactor = (text) => redact(text, secrets);
  return {
    ...request,
    url: clean(request.url),
    headers: redactHeaders(request.headers, clean),
    ...(request.body !== undefined ? { body: clean(request.body) } : {}),
  };
}

/** Headers fit to show: a credential header's value is `***`, any other has its secrets replaced. */
export function redactHeaders(headers: Record<string, string>, clean: Redactor): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, SENSITIVE_HEADER.test(name) ? '***' : clean(value)]));
}
