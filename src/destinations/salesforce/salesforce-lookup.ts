import type { Value } from '../../sources/source.ts';
import type { CallScope, SalesforceClient } from './salesforce-client.ts';

/** Values per SOQL query: keeps the GET URL far below Salesforce's 16,384-character URI limit. */
const MAX_VALUES = 200;
const MAX_CHARS = 8_000;

interface QueryAnswer {
  done: boolean;
  nextRecordsUrl?: string;
  records: Record<string, unknown>[];
}

/**
 * Finds record Ids by an identifying field (`SELECT Id, Email FROM Contact WHERE Email IN (…)`),
 * for updates and deletes of rows whose Salesforce Id was never remembered. Values compare
 * case-insensitively, as Salesforce's own Email and External ID matches do.
 * Returns, per lower-cased value, every Id holding it.
 */
export async function lookupIds(
  client: SalesforceClient,
  scope: CallScope,
  object: string,
  field: string,
  values: Value[],
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const chunk of chunks([...new Set(values.map(literal))])) {
    const soql = `SELECT Id, ${field} FROM ${object} WHERE ${field} IN (${chunk.join(', ')})`;
    let path: string | undefined = `/query?q=${encodeURIComponent(soql)}`;
    while (path) {
      const { body }: { body: QueryAnswer } = await client.request<QueryAnswer>(scope, 'GET', path);
      for (const record of body.records) {
        const key = String(record[field] ?? '').toLowerCase();
        found.set(key, [...(found.get(key) ?? []), String(record.Id)]);
      }
      // nextRecordsUrl is absolute from /services: keep only the part after the version.
      path = body.done || !body.nextRecordsUrl ? undefined : body.nextRecordsUrl.replace(/^.*\/services\/data\/v[\d.]+/, '');
    }
  }
  return found;
}

export function lookupKey(value: Value): string {
  return String(value).toLowerCase();
}

/** A SOQL literal: numbers bare, everything else quoted with SOQL's backslash escapes. */
export function literal(value: Value): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  const escaped = String(value).replace(/[\\'"\n\r\t\f\b]/g, (char) => ESCAPES[char]);
  return `'${escaped}'`;
}

const ESCAPES: Record<string, string> = {
  '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\f': '\\f', '\b': '\\b',
};

function* chunks(literals: string[]): Generator<string[]> {
  let current: string[] = [];
  let chars = 0;
  for (const item of literals) {
    if (current.length && (current.length >= MAX_VALUES || chars + item.length > MAX_CHARS)) {
      yield current;
      current = [];
      chars = 0;
    }
    current.push(item);
    chars += item.length + 2;
  }
  if (current.length) yield current;
}
