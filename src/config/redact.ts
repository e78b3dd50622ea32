/**
 * The one way Lastmile hides secrets: in what it shows (CLI output, API answers, logs,
 * alerts), in what it stores (run summaries, trace lines, rejected rows) and in what a
 * destination answers (an error body that repeats the Authorization header).
 */
export type Redactor = (text: string) => string;

/** Values shorter than this are not hidden: redacting "1" or "on" would mangle every message. */
const SHORTEST_SECRET = 4;
/** `Bearer <token>`, `Basic <base64>`: the credential alone may come back without its scheme. */
const AUTH_SCHEME = /^(?:bearer|basic|token|bot|apikey|api-key|key)\s+(\S+)$/i;

/**
 * A redactor replacing every secret with `***`, longest form first (so a secret that contains
 * another goes whole). Each secret is also caught URL-encoded (query strings), JSON-escaped
 * (logs and answers are redacted after serialising), and, for an `Authorization`-style value,
 * as the bare credential (and a Basic credential's decoded password).
 */
export function secretRedactor(secrets: readonly unknown[]): Redactor {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string') continue;
    for (const form of variants(secret.trim())) {
      if (form.length < SHORTEST_SECRET) continue;
      forms.add(form);
      forms.add(encodeURIComponent(form));
      forms.add(JSON.stringify(form).slice(1, -1));
    }
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let result = text;
    for (const form of ordered) {
      if (result.includes(form)) result = result.split(form).join('***');
    }
    return result;
  };
}

/** Replaces every secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  return secretRedactor(secrets)(text);
}

/**
 * Applies a redactor to every string (and key) of a JSON-bound value, and turns values JSON
 * cannot carry (bigint, bytes, dates) into text.
 */
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

/** A record of strings with every secret replaced; its shape is kept. */
export function redactRecord<T extends object>(value: T, redact: Redactor): T {
  return redactDeep(value, redact) as T;
}

function variants(secret: string): string[] {
  const scheme = AUTH_SCHEME.exec(secret);
  if (!scheme) return [secret];
  const credential = scheme[1]!;
  const out = [secret, credential];
  if (/^basic\s/i.test(secret)) {
    const decoded = Buffer.from(credential, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0 && /^[\x20-\x7e]+$/.test(decoded)) out.push(decoded, decoded.slice(colon + 1));
  }
  return out;
}
