import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web UI is one HTML file, a script and a stylesheet from this server, calling this
 * server's API: nothing else may load, run or frame it. React sets styles through the DOM,
 * which `style-src 'self'` allows; the favicon is a data: URL.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  // Older browsers read only this one; frame-ancestors says the same to newer ones.
  'x-frame-options': 'DENY',
  // The UI may be opened once with ?token=: no page of it tells another site its address.
  'referrer-policy': 'no-referrer',
};

/** An onSend hook: every answer (page, asset, API, error) leaves with the headers above. */
export async function securityHeaders(_request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  for (const [name, value] of Object.entries(HEADERS)) reply.header(name, value);
  return payload;
}
