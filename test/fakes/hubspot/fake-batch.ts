import { batchError, errorAnswer, validationAnswer, type Answer } from './fake-answers.ts';
import { canIdentifyBy, findProperty, PORTAL_ID, type ObjectTypeDefinition } from './fake-schema.ts';
import type { FakeStore, StoredObject } from './fake-store.ts';
import { normaliseValue, validateProperties } from './fake-validation.ts';

/**
 * `POST /crm/v3/objects/{objectType}/batch/{action}`: upsert, create, update, archive, read.
 * Property validation rejects the whole batch (400), except batch create with an
 * objectWriteTraceId on every input, which answers 207 multi-status per input.
 */
export const MAX_BATCH_INPUTS = 100;

type Input = { id?: unknown; idProperty?: unknown; properties?: Record<string, unknown>; objectWriteTraceId?: unknown };

export function handleBatch(store: FakeStore, type: ObjectTypeDefinition, action: string, body: unknown): Answer {
  const inputs = (body as { inputs?: unknown })?.inputs;
  if (!Array.isArray(inputs)) return errorAnswer(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1: inputs is required');
  if (inputs.length > MAX_BATCH_INPUTS) {
    return errorAnswer(400, 'VALIDATION_ERROR', `Batch input size of ${inputs.length} exceeds the limit of ${MAX_BATCH_INPUTS} inputs`);
  }
  const b = body as { idProperty?: unknown; properties?: unknown };
  switch (action) {
    case 'upsert': return upsert(store, type, inputs as Input[]);
    case 'create': return create(store, type, inputs as Input[]);
    case 'update': return update(store, type, inputs as Input[], b.idProperty);
    case 'archive': return archive(store, type, inputs as Input[]);
    case 'read': return read(store, type, inputs as Input[], b.idProperty, b.properties);
    default: return errorAnswer(404, 'OBJECT_NOT_FOUND', `Unknown batch action ${action}`);
  }
}

function upsert(store: FakeStore, type: ObjectTypeDefinition, inputs: Input[]): Answer {
  for (const input of inputs) {
    const idProperty = String(input.idProperty ?? '');
    if (!idProperty || input.id === undefined) return errorAnswer(400, 'VALIDATION_ERROR', 'Each upsert input needs an idProperty and an id');
    if (!canIdentifyBy(type, idProperty)) return nonUnique(type, idProperty);
  }
  const duplicate = duplicates(type, inputs, (i) => String(i.idProperty));
  if (duplicate) return duplicate;
  const issues = inputs.flatMap((i) => validateProperties(type, { ...i.properties, [String(i.idProperty)]: i.id }));
  if (issues.length) return validationAnswer(issues);
  const targets = inputs.map((i) => store.findBy(type, String(i.idProperty), normaliseId(type, String(i.idProperty), i.id)));
  const conflict = firstConflict(store, type, inputs, (i, n) => targets[n]?.id);
  if (conflict) return conflict;
  const results = inputs.map((input, n) => {
    const existing = targets[n];
    const written = existing
      ? store.update(type, existing, input.properties ?? {})
      : store.create(type, { ...input.properties, [String(input.idProperty)]: input.id });
    return { ...toApi(written, input), new: !existing };
  });
  return complete(200, results);
}

function create(store: FakeStore, type: ObjectTypeDefinition, inputs: Input[]): Answer {
  const multiStatus = inputs.length > 0 && inputs.every((i) => typeof i.objectWriteTraceId === 'string' && i.objectWriteTraceId);
  if (!multiStatus) {
    const issues = inputs.flatMap((i) => validateProperties(type, i.properties ?? {}));
    if (issues.length) return validationAnswer(issues);
    const conflict = firstConflict(store, type, inputs, () => undefined);
    if (conflict) return conflict;
    return complete(201, inputs.map((i) => toApi(store.create(type, i.properties ?? {}), i)));
  }
  const results: unknown[] = [];
  const errors: unknown[] = [];
  for (const input of inputs) {
    const trace = { objectWriteTraceId: [String(input.objectWriteTraceId)] };
    const issues = validateProperties(type, input.properties ?? {});
    if (issues.length) {
      errors.push(batchError('VALIDATION_ERROR', `Property values were not valid: ${issues.map((i) => i.message).join('; ')}`, trace, issues));
      continue;
    }
    const holder = store.conflictOf(type, input.properties ?? {});
    if (holder) {
      errors.push(batchError('CONFLICT', `${titleCase(type.singular)} already exists. Existing ID: ${holder.id}`, trace));
      continue;
    }
    results.push(toApi(store.create(type, input.properties ?? {}), input));
  }
  return errors.length ? complete(207, results, errors) : complete(201, results);
}

function update(store: FakeStore, type: ObjectTypeDefinition, inputs: Input[], batchIdProperty: unknown): Answer {
  const idPropertyOf = (i: Input) => String(i.idProperty ?? batchIdProperty ?? 'hs_object_id');
  for (const input of inputs) {
    if (input.id === undefined) return errorAnswer(400, 'VALIDATION_ERROR', 'Each update input needs an id');
    const idProperty = idPropertyOf(input);
    if (idProperty !== 'hs_object_id' && !canIdentifyBy(type, idProperty)) return nonUnique(type, idProperty);
  }
  const duplicate = duplicates(type, inputs, idPropertyOf);
  if (duplicate) return duplicate;
  const issues = inputs.flatMap((i) => validateProperties(type, i.properties ?? {}));
  if (issues.length) return validationAnswer(issues);
  const targets = inputs.map((i) => store.findBy(type, idPropertyOf(i), normaliseId(type, idPropertyOf(i), i.id)));
  const missing = inputs.filter((_, n) => !targets[n]).map((i) => String(i.id));
  if (missing.length) {
    return errorAnswer(400, 'OBJECT_NOT_FOUND',
      `Could not get some ${type.singular} objects, they may be deleted or not exist. Check that ids are valid.`,
      { context: { ids: missing } });
  }
  const conflict = firstConflict(store, type, inputs, (_, n) => targets[n]!.id);
  if (conflict) return conflict;
  return complete(200, inputs.map((input, n) => toApi(store.update(type, targets[n]!, input.properties ?? {}), input)));
}

function archive(store: FakeStore, type: ObjectTypeDefinition, inputs: Input[]): Answer {
  // Archiving an id that does not exist (or is already archived) is not an error.
  for (const input of inputs) store.archive(type, String(input.id));
  return { status: 204 };
}

function read(store: FakeStore, type: ObjectTypeDefinition, inputs: Input[], idProperty: unknown, properties: unknown): Answer {
  const by = typeof idProperty === 'string' && idProperty ? idProperty : 'hs_object_id';
  if (by !== 'hs_object_id' && !canIdentifyBy(type, by)) return nonUnique(type, by);
  const wanted = Array.isArray(properties) ? properties.map(String) : [];
  const results: unknown[] = [];
  const missing: string[] = [];
  for (const input of inputs) {
    const found = store.findBy(type, by, normaliseId(type, by, input.id));
    if (found) results.push(toApi(found, {}, [...new Set([...wanted, by === 'hs_object_id' ? 'hs_object_id' : by])]));
    else missing.push(String(input.id));
  }
  if (!missing.length) return complete(200, results);
  const message = `Could not get some ${type.singular} objects, they may be deleted or not exist. Check that ids are valid.`;
  return complete(207, results, [batchError('OBJECT_NOT_FOUND', message, { ids: missing })]);
}

function toApi(o: StoredObject, input: Input, only?: string[]): Record<string, unknown> {
  const base = ['hs_object_id', 'createdate', 'hs_lastmodifieddate'];
  const keys = only ? [...new Set([...base, ...only])] : Object.keys(o.properties);
  const properties = Object.fromEntries(keys.map((k) => [k, o.properties[k] ?? null]));
  const trace = typeof input.objectWriteTraceId === 'string' ? { objectWriteTraceId: input.objectWriteTraceId } : {};
  return { id: o.id, properties, createdAt: o.createdAt, updatedAt: o.updatedAt, archived: o.archived, ...trace };
}

function complete(status: number, results: unknown[], errors: unknown[] = []): Answer {
  const now = new Date().toISOString();
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt: now, completedAt: now };
  if (errors.length) Object.assign(body, { numErrors: errors.length, errors });
  return { status, body };
}

function nonUnique(type: ObjectTypeDefinition, idProperty: string): Answer {
  return errorAnswer(400, 'VALIDATION_ERROR',
    `Unable to perform update/upsert by non-unique ${type.objectTypeId} property ${idProperty} in portal ID ${PORTAL_ID}`);
}

function duplicates(type: ObjectTypeDefinition, inputs: Input[], idPropertyOf: (i: Input) => string): Answer | undefined {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const input of inputs) {
    const id = normaliseId(type, idPropertyOf(input), input.id);
    if (seen.has(id)) dup.add(id);
    seen.add(id);
  }
  if (!dup.size) return undefined;
  const ids = [...dup];
  return errorAnswer(400, 'VALIDATION_ERROR', `Duplicate IDs found in batch input: [${ids.join(', ')}]. IDs must be unique`, { context: { ids } });
}

/** A 409 when a write would give a unique value (or a contact's email) a second holder. */
function firstConflict(
  store: FakeStore, type: ObjectTypeDefinition, inputs: Input[], selfId: (i: Input, n: number) => string | undefined,
): Answer | undefined {
  for (const [n, input] of inputs.entries()) {
    const holder = store.conflictOf(type, input.properties ?? {}, selfId(input, n));
    if (holder) return errorAnswer(409, 'CONFLICT', `${titleCase(type.singular)} already exists. Existing ID: ${holder.id}`);
  }
  return undefined;
}

function normaliseId(type: ObjectTypeDefinition, idProperty: string, id: unknown): string {
  return normaliseValue(findProperty(type, idProperty), id);
}

function titleCase(word: string): string {
  return word.charAt(0) + word.slice(1).toLowerCase();
}
