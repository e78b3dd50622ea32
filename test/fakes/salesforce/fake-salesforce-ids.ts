/**
 * Salesforce record Ids: 15 case-sensitive characters (3-character key prefix, then the
 * record number), plus a 3-character suffix that makes the 18-character form case-safe.
 */
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function makeId(prefix: string, serial: number): string {
  let body = '';
  for (let rest = serial; body.length < 10; rest = Math.floor(rest / 62)) body = ALPHANUMERIC[rest % 62] + body;
  return to18(`${prefix}5g${body}`);
}

/** The 18-character form: for each block of five, one letter telling which characters are upper case. */
export function to18(id15: string): string {
  let suffix = '';
  for (let block = 0; block < 3; block++) {
    let bits = 0;
    for (let index = 0; index < 5; index++) {
      const char = id15[block * 5 + index];
      if (char >= 'A' && char <= 'Z') bits |= 1 << index;
    }
    suffix += SUFFIX_ALPHABET[bits];
  }
  return id15 + suffix;
}

/** The canonical 18-character Id, or undefined when `text` cannot be an Id (MALFORMED_ID). */
export function normalizeId(text: string): string | undefined {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/.test(text)) return undefined;
  const full = to18(text.slice(0, 15));
  if (text.length === 18 && full.toLowerCase() !== text.toLowerCase()) return undefined;
  return full;
}
