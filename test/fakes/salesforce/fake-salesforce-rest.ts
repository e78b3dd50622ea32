import type { FakeObject } from './fake-salesforce-objects.ts';
import type { FakeStore, SaveResult } from './fake-salesforce-store.ts';
import { jsonTypeError } from './fake-salesforce-values.ts';

type Answer = { status: number; json?: unknown };
const error = (status: number, errorCode: string, message: string, fields?: string[]): Answer =>
  ({ status, json: [{ message, errorCode, ...(fields ? { fields } : {}) }] });

export const COLLECTION_LIMIT = 200;
const LIMIT_MESSAGE = `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`;

/**
 * sObject Collections (POST create, PATCH update, PATCH …/{Object}/{ExternalIdField} upsert,
 * DELETE ?ids=) and the SOQL shapes Lastmile sends (`SELECT … FROM … WHERE f IN (…)`).
 */
export class FakeRest {
  constructor(
    private readonly objects: Record<string, FakeObject>,
    private readonly store: FakeStore,
  ) {}

  save(method: 'POST' | 'PATCH', body: string, upsert?: { object: string; field: string }): Answer {
    let request: { allOrNone?: boolean; records?: Record<string, unknown>[] };
    try {
      request = JSON.parse(body);
    } catch {
      return error(400, 'JSON_PARSER_ERROR', 'Unexpected character in request body');
    }
    const records = request.records;
    if (!Array.isArray(records)) return error(400, 'JSON_PARSER_ERROR', 'records is required');
    if (records.length > COLLECTION_LIMIT) return error(400, 'EXCEEDED_ID_LIMIT', LIMIT_MESSAGE);
    if (request.allOrNone) return error(400, 'INVALID_INPUT', 'this fake models allOrNone=false only');

    // Whole-request checks first, as Salesforce reads the whole body before saving any record.
    const parsed: { object: FakeObject; values: Record<string, unknown> }[] = [];
    for (const record of records) {
      const { attributes, ...values } = record as { attributes?: { type?: string } } & Record<string, unknown>;
      const type = attributes?.type;
      if (!type) return error(400, 'INVALID_TYPE', 'Must send a concrete entity type.');
      const object = this.objects[type];
      if (!object) return error(400, 'INVALID_TYPE', `sObject type '${type}' is not supported.`);
      if (upsert && type !== upsert.object) return error(400, 'INVALID_TYPE', `Each record must be of type ${upsert.object}`);
      for (const [name, value] of Object.entries(values)) {
        const field = object.fields.find((candidate) => candidate.name === name);
        if (!field) return error(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${type}`);
        const typeError = jsonTypeError(field, value);
        if (typeError) return error(400, 'JSON_PARSER_ERROR', `${typeError} at [line:1, column:${JSON.stringify(record).indexOf(JSON.stringify(name)) + 1}]`);
      }
      parsed.push({ object, values });
    }
    if (upsert) {
      const object = this.objects[upsert.object];
      const field = object?.fields.find((candidate) => candidate.name === upsert.field);
      if (!object || !field) return error(404, 'NOT_FOUND', 'The requested resource does not exist');
      if (!field.externalId && !field.idLookup) {
        return error(400, 'INVALID_FIELD', `Field name provided, ${upsert.field} is not an External ID or indexed field for ${upsert.object}`);
      }
      const counts = new Map<string, number>();
      for (const { values } of parsed) {
        const key = String(values[upsert.field] ?? '').toLowerCase();
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return {
        status: 200,
        json: parsed.map(({ object: type, values }): SaveResult => {
          if ('Id' in values) return failed('INVALID_FIELD', 'Id is not allowed in an upsert by external id; use the external id field');
          const value = String(values[upsert.field] ?? '');
          if (value && (counts.get(value.toLowerCase()) ?? 0) > 1) return failed('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${value}`, [upsert.field]);
          return this.store.upsert(type, upsert.field, values);
        }),
      };
    }
    return {
      status: 200,
      json: parsed.map(({ object, values }): SaveResult => {
        if (method === 'POST') {
          return 'Id' in values ? failed('INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']) : this.store.insert(object, values);
        }
        const { Id: id, ...rest } = values;
        return this.store.update(object, id, rest);
      }),
    };
  }

  remove(query: URLSearchParams): Answer {
    const ids = (query.get('ids') ?? '').split(',').filter(Boolean);
    if (!ids.length) return error(400, 'MISSING_ARGUMENT', 'ids parameter is required');
    if (ids.length > COLLECTION_LIMIT) return error(400, 'EXCEEDED_ID_LIMIT', LIMIT_MESSAGE);
    if (query.get('allOrNone') === 'true') return error(400, 'INVALID_INPUT', 'this fake models allOrNone=false only');
    return {
      status: 200,
      json: ids.map((id) => {
        const object = Object.values(this.objects).find((candidate) => id.startsWith(candidate.keyPrefix));
        return object ? this.store.delete(object, id) : failed('MALFORMED_ID', `malformed id ${id}`);
      }),
    };
  }

  query(soql: string): Answer {
    const match = /^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(\w+)\s+(IN\s*\((.*)\)|=\s*(.+?)))?(?:\s+LIMIT\s+(\d+))?\s*$/is.exec(soql);
    if (!match) return error(400, 'MALFORMED_QUERY', `unexpected token in: ${soql.slice(0, 80)}`);
    const [, selectList, type, whereField, , inList, equalsValue, limit] = match;
    const object = this.objects[type];
    if (!object) return error(400, 'INVALID_TYPE', `sObject type '${type}' is not supported.`);
    const selected = selectList.split(',').map((name) => name.trim());
    for (const name of [...selected, ...(whereField ? [whereField] : [])]) {
      if (!object.fields.some((field) => field.name.toLowerCase() === name.toLowerCase())) {
        return error(400, 'INVALID_FIELD', `No such column '${name}' on entity '${type}'.`);
      }
    }
    let wanted: Set<string> | undefined;
    if (whereField) {
      const literals = literalsOf(inList ?? equalsValue);
      if (!literals) return error(400, 'MALFORMED_QUERY', `malformed literal list in: ${soql.slice(0, 80)}`);
      wanted = new Set(literals.map((literal) => literal.toLowerCase()));
    }
    let rows = [...this.store.table(type).values()]
      .filter((record) => !wanted || (record[whereField] !== null && record[whereField] !== undefined && wanted.has(String(record[whereField]).toLowerCase())));
    if (limit) rows = rows.slice(0, Number(limit));
    const records = rows.map((record) => ({
      attributes: { type, url: `/services/data/v62.0/sobjects/${type}/${record.Id}` },
      ...Object.fromEntries(selected.map((name) => [name, record[name] ?? null])),
    }));
    return { status: 200, json: { totalSize: records.length, done: true, records } };
  }
}

function failed(statusCode: string, message: string, fields: string[] = []): SaveResult {
  return { success: false, errors: [{ statusCode, message, fields }] };
}

/** `'a', 'b\'c', 12` -> ['a', "b'c", '12']; undefined when malformed. */
function literalsOf(text: string): string[] | undefined {
  const values: string[] = [];
  let at = 0;
  const skipSpace = () => { while (at < text.length && /\s/.test(text[at])) at++; };
  for (;;) {
    skipSpace();
    if (text[at] === "'") {
      let value = '';
      for (at++; at < text.length && text[at] !== "'"; at++) {
        if (text[at] === '\\') value += ESCAPES[text[++at]] ?? text[at];
        else value += text[at];
      }
      if (text[at] !== "'") return undefined;
      at++;
      values.push(value);
    } else {
      const number = /^-?\d+(\.\d+)?/.exec(text.slice(at));
      if (!number) return undefined;
      values.push(number[0]);
      at += number[0].length;
    }
    skipSpace();
    if (at >= text.length) return values;
    if (text[at++] !== ',') return undefined;
  }
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', f: '\f', b: '\b' };
