import type { Change, RecordResult, Rejection } from '../destination.ts';
import type { Value } from '../../sources/source.ts';
import { batchErrorRejection, contextValues, type HubspotErrorBody } from './hubspot-errors.ts';
import { formatValue, type HubspotProperty } from './hubspot-properties.ts';

/**
 * The bodies of HubSpot's batch endpoints, and the way back from their answers to one
 * result per change. Every input carries an objectWriteTraceId (its index) so results and
 * multi-status errors find their change even when HubSpot reorders them.
 */
export interface BatchAnswer {
  status?: string;
  results?: { id: string; properties?: Record<string, string | null>; objectWriteTraceId?: string; new?: boolean }[];
  errors?: HubspotErrorBody[];
}

export type Properties = Map<string, HubspotProperty>;

/** The change's identifier: HubSpot's idProperty and its value, from the sync's match. */
export function identifierOf(change: Change): { idProperty: string; value: Value } | undefined {
  const [entry] = Object.entries(change.match);
  if (!entry || entry[1] === null || entry[1] === '') return undefined;
  return { idProperty: entry[0], value: entry[1] };
}

export function propertiesOf(change: Change, properties: Properties): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(change.fields)) out[name] = formatValue(value, properties.get(name));
  return out;
}

/**
 * HubSpot refuses a whole batch in which two inputs name one record. Rows of one batch that
 * do (two model rows with one email) are sent once, as the last of them: the record ends up
 * as sending them one after the other would leave it, and each row gets that answer.
 */
export function collapseDuplicates(changes: Change[], properties: Properties): { sent: Change[]; sameAs: Map<Change, Change> } {
  const last = new Map<string, Change>();
  for (const change of changes) last.set(recordKey(change, properties), change);
  const sent = changes.filter((c) => last.get(recordKey(c, properties)) === c);
  const sameAs = new Map(changes.filter((c) => !sent.includes(c)).map((c) => [c, last.get(recordKey(c, properties))!]));
  return { sent, sameAs };
}

function recordKey(change: Change, properties: Properties): string {
  if (change.op === 'update' && change.destId) return `id:${change.destId}`;
  const identifier = identifierOf(change);
  if (!identifier) return `key:${change.key}`;
  return `v:${identifier.idProperty}:${identityValue(identifier.idProperty, formatValue(identifier.value, properties.get(identifier.idProperty)))}`;
}

/** batch/create inputs: properties only. */
export function createInputs(changes: Change[], properties: Properties): unknown[] {
  return changes.map((change, n) => ({ properties: propertiesOf(change, properties), objectWriteTraceId: String(n) }));
}

/** batch/upsert inputs: `{ idProperty, id, properties }`. Callers reject changes without an identifier first. */
export function upsertInputs(changes: Change[], properties: Properties): unknown[] {
  return changes.map((change, n) => {
    const { idProperty, value } = identifierOf(change)!;
    return { idProperty, id: formatValue(value, properties.get(idProperty)), properties: propertiesOf(change, properties), objectWriteTraceId: String(n) };
  });
}

/** batch/update inputs: by the remembered HubSpot id, else by the identifier property. */
export function updateInputs(changes: Change[], properties: Properties): unknown[] {
  return changes.map((change, n) => {
    const base = { properties: propertiesOf(change, properties), objectWriteTraceId: String(n) };
    if (change.destId) return { id: change.destId, ...base };
    const { idProperty, value } = identifierOf(change)!;
    const id = formatValue(value, properties.get(idProperty));
    // The record id is no idProperty: HubSpot takes it as the plain id.
    return idProperty === 'hs_object_id' ? { id, ...base } : { id, idProperty, ...base };
  });
}

/**
 * One result per change from a 200/201/207 answer. Results are matched by trace id, then
 * by HubSpot id or identifier value, then (same count left on both sides) by position.
 */
export function settle(changes: Change[], answer: BatchAnswer, properties: Properties): RecordResult[] {
  const keysOf = (change: Change, n: number): string[] => {
    const keys = [`t:${n}`];
    if (change.destId) keys.push(`id:${change.destId}`);
    const identifier = identifierOf(change);
    if (identifier) keys.push(`v:${identityValue(identifier.idProperty, formatValue(identifier.value, properties.get(identifier.idProperty)))}`);
    return keys;
  };
  const index = new Map<string, number>();
  changes.forEach((change, n) => keysOf(change, n).forEach((k) => index.has(k) || index.set(k, n)));

  const settled = new Map<number, RecordResult>();
  const unmatchedResults: NonNullable<BatchAnswer['results']> = [];
  for (const result of answer.results ?? []) {
    const n = resultKeys(result, changes).map((k) => index.get(k)).find((i) => i !== undefined && !settled.has(i));
    if (n === undefined) unmatchedResults.push(result);
    else settled.set(n, { key: changes[n]!.key, outcome: 'delivered', destId: String(result.id) });
  }
  let unattributed: Rejection | undefined;
  for (const error of answer.errors ?? []) {
    const named = [
      ...contextValues(error, 'objectWriteTraceId').map((t) => `t:${t}`),
      ...contextValues(error, 'ids').flatMap((id) => [`id:${id}`, `v:${id}`, `v:${id.toLowerCase()}`]),
    ].map((k) => index.get(k)).filter((i): i is number => i !== undefined && !settled.has(i));
    if (!named.length) unattributed ??= batchErrorRejection(error);
    for (const n of new Set(named)) settled.set(n, { key: changes[n]!.key, outcome: 'rejected', rejection: batchErrorRejection(error) });
  }
  const open = changes.map((_, n) => n).filter((n) => !settled.has(n));
  if (open.length && open.length === unmatchedResults.length) {
    open.forEach((n, i) => settled.set(n, { key: changes[n]!.key, outcome: 'delivered', destId: String(unmatchedResults[i]!.id) }));
  }
  return changes.map((change, n) => settled.get(n) ?? (unattributed
    // An error HubSpot did not attach to an input: these changes may not have arrived.
    ? { key: change.key, outcome: 'rejected', rejection: { ...unattributed, retryable: true } }
    // A COMPLETE answer without a result for this input: it was written, its id unknown.
    : { key: change.key, outcome: 'delivered' }));
}

function resultKeys(result: NonNullable<BatchAnswer['results']>[number], changes: Change[]): string[] {
  const keys: string[] = [];
  if (result.objectWriteTraceId !== undefined) keys.push(`t:${result.objectWriteTraceId}`);
  keys.push(`id:${result.id}`);
  const idProperties = new Set(changes.map((c) => identifierOf(c)?.idProperty).filter((p): p is string => !!p));
  for (const p of idProperties) {
    const value = result.properties?.[p];
    if (value !== undefined && value !== null) keys.push(`v:${identityValue(p, value)}`);
  }
  return keys;
}

/** HubSpot compares emails without case. */
function identityValue(idProperty: string, value: string): string {
  return idProperty === 'email' ? value.toLowerCase() : value;
}
