/**
 * How the fake presents DuckDB columns as BigQuery's REST API does: the schema (legacy type
 * names, as the API writes them: INTEGER, FLOAT, BOOLEAN, RECORD; mode REPEATED for arrays)
 * and the cell values (`{v: string}`; a list of `{v}` for REPEATED, `{f: [{v}]}` for RECORD).
 * Scalars are written as text by SQL (bigqueryEncode); nested values come as DuckDB's JSON and
 * are rewritten to cells here.
 */
export interface FakeField {
  name: string;
  type: string;
  mode: 'NULLABLE' | 'REPEATED';
  fields?: FakeField[];
  precision?: string;
  scale?: string;
}

/** A DuckDB type name (`INTEGER[]`, `STRUCT(a INTEGER, "b c" VARCHAR[])`, `DECIMAL(18,4)`) as a BigQuery field. */
export function bigqueryField(name: string, duckdbType: string): FakeField {
  const t = duckdbType.trim();
  if (t.endsWith('[]')) return { ...bigqueryField(name, t.slice(0, -2)), mode: 'REPEATED' };
  const upper = t.toUpperCase();
  if (upper.startsWith('STRUCT(')) {
    return { name, type: 'RECORD', mode: 'NULLABLE', fields: splitMembers(t.slice(7, -1)).map(([member, type]) => bigqueryField(member, type)) };
  }
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(upper);
  if (decimal) {
    const scale = Number(decimal[2]);
    return { name, type: scale > 9 ? 'BIGNUMERIC' : 'NUMERIC', mode: 'NULLABLE', precision: decimal[1], scale: decimal[2] };
  }
  return { name, type: SCALAR_TYPES[upper] ?? 'STRING', mode: 'NULLABLE' };
}

const SCALAR_TYPES: Record<string, string> = {
  TINYINT: 'INTEGER', SMALLINT: 'INTEGER', INTEGER: 'INTEGER', BIGINT: 'INTEGER', HUGEINT: 'INTEGER',
  UTINYINT: 'INTEGER', USMALLINT: 'INTEGER', UINTEGER: 'INTEGER',
  DOUBLE: 'FLOAT', FLOAT: 'FLOAT', BOOLEAN: 'BOOLEAN', VARCHAR: 'STRING', BLOB: 'BYTES', DATE: 'DATE', TIME: 'TIME',
  TIMESTAMP: 'DATETIME', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMP', JSON: 'JSON',
};

/** `a INTEGER, "b c" VARCHAR[]` → [[a, INTEGER], [b c, VARCHAR[]]], parentheses nesting respected. */
function splitMembers(text: string): [string, string][] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')') depth--;
    else if (!quoted && depth === 0 && ch === ',') { parts.push(text.slice(start, i)); start = i + 1; }
  }
  parts.push(text.slice(start));
  return parts.map((part) => {
    const trimmed = part.trim();
    const match = /^("(?:[^"]|"")*"|\S+)\s+(.*)$/.exec(trimmed)!;
    const name = match[1]!.startsWith('"') ? match[1]!.slice(1, -1).replaceAll('""', '"') : match[1]!;
    return [name, match[2]!];
  });
}

/** The SQL writing a column as BigQuery text; nested columns as JSON, rewritten by `toCell`. */
export function bigqueryEncode(duckdbType: string, c: string): string {
  const field = bigqueryField('', duckdbType);
  if (field.mode === 'REPEATED' || field.type === 'RECORD') return `to_json(${c})::VARCHAR`;
  switch (field.type) {
    case 'BYTES': return `to_base64(${c})`;
    case 'DATETIME': return `strftime(${c}, '%Y-%m-%dT%H:%M:%S.%f')`;
    case 'TIMESTAMP': return `(epoch_us(${c}) / 1000000)::DECIMAL(18,6)::VARCHAR`; // rewritten as a float's text by toCell
    case 'NUMERIC':
    case 'BIGNUMERIC': return `regexp_replace(regexp_replace(${c}::VARCHAR, '(\\.\\d*?)0+$', '\\1'), '\\.$', '')`;
    default: return `${c}::VARCHAR`;
  }
}

/** One column's value as the API's cell value. */
export function toCell(field: FakeField, text: string | null): unknown {
  if (text === null) return null;
  if (field.mode === 'REPEATED' || field.type === 'RECORD') return nested(field, JSON.parse(text));
  if (field.type === 'TIMESTAMP') return floatText(Number(text));
  return text;
}

function nested(field: FakeField, value: unknown): unknown {
  if (value === null) return null;
  if (field.mode === 'REPEATED') return (value as unknown[]).map((element) => ({ v: nested({ ...field, mode: 'NULLABLE' }, element) }));
  if (field.type === 'RECORD') {
    const record = value as Record<string, unknown>;
    return { f: field.fields!.map((member) => ({ v: nested(member, record[member.name] ?? null) })) };
  }
  if (field.type === 'JSON') return JSON.stringify(value);
  return String(value);
}

/** A double as BigQuery writes a TIMESTAMP: `1.709287200123456E9` (Java's form of a double). */
function floatText(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs === 0 || (abs >= 1e-3 && abs < 1e7)) return Number.isInteger(seconds) ? `${seconds}.0` : String(seconds);
  const [mantissa, exponent] = seconds.toExponential().split('e');
  return `${mantissa!.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}
