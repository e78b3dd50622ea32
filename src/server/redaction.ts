/**
 * Redaction for everything the server sends out: API answers, logs, alerts.
 * A `Redactor` replaces secret values in text; `redactDeep` applies it to every string of a
 * JSON-bound value and turns values JSON cannot carry (bigint, bytes) into text.
 */
export type Redactor = (text: string) => string;

/**
 * Wraps a text redactor so it also catches a secret as it appears inside JSON text
 * (quotes and backslashes escaped), since logs and answers are redacted after serialising.
 */
export function jsonAwareSecrets(secrets: readonly string[]): string[] {
  const out = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    out.add(secret);
    out.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

export function redactDeep(value: unknown, redact: Redactor): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[redact(key)] = redactDeep(item, redact);
    return out;
  }
  return value;
}
