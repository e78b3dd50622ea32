/** Values shorter than this are not hidden: redacting "1" or "on" would mangle every message. */
const SHORTEST_SECRET = 4;

/**
 * Replaces every secret in `text` with `***`, longest first (so a secret that contains
 * another goes whole). The URL-encoded form is hidden too: secrets end up in query strings.
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (typeof secret !== 'string' || secret.length < SHORTEST_SECRET) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  let result = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (result.includes(form)) result = result.split(form).join('***');
  }
  return result;
}
