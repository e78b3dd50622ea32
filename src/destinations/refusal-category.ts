/**
 * The category of a row an HTTP endpoint refused, read from what it said. A named field alone
 * proves nothing: "price must be greater than 0" names a field the value fits perfectly, and
 * only a rule of the destination refused it. A schema mismatch is a value of the wrong type,
 * format or length, or a field the destination does not have.
 */
const RULE = /\b(check constraint|constraint|violat\w*|business rule|rule|not allowed|forbidden|duplicate|already exists|conflict)\b/i;
const SCHEMA = new RegExp([
  String.raw`\b(required|missing|type|types|format|too long|too large|too big|length|characters?|invalid_type|invalid_format|too_long|json)\b`,
  String.raw`\b(expected|must be|is not|not) an? (string|text|number|integer|int|boolean|date|datetime|timestamp|email|url|uuid|object|array|list)\b`,
  String.raw`\b(invalid|malformed|unparsable|not a valid) (string|number|integer|boolean|date|datetime|timestamp|email|url|uuid|value for type)\b`,
  String.raw`\b(unknown|unrecognized|unexpected|no such|undefined) (field|property|column|attribute|key)\b`,
].join('|'), 'i');

/** A schema mismatch needs a named field and words of type, format, length or an unknown field; the rest is an invalid row. */
export function refusalCategory(said: { code?: string; message?: string; field?: string }): 'schema_mismatch' | 'invalid_row' {
  if (!said.field) return 'invalid_row';
  const text = `${said.code ?? ''} ${said.message ?? ''}`;
  const words = text.replace(/_/g, ' ');
  if (RULE.test(words)) return 'invalid_row';
  return SCHEMA.test(words) || SCHEMA.test(text) ? 'schema_mismatch' : 'invalid_row';
}
