import type { Change, Operation, RecordResult } from '../destination.ts';
import { SyncError } from '../../errors.ts';
import type { CallScope } from './salesforce-client.ts';
import { rejectionFor, type SalesforceRecordError } from './salesforce-errors.ts';
import { missing, payloadOf, present, resolveIds, splitUnreadable, type WriteSetup } from './salesforce-targets.ts';
import { jsonValue } from './salesforce-values.ts';

/** sObject Collections takes at most 200 records (or ids) per request. */
export const COLLECTION_LIMIT = 200;

/** One per-record answer of sObject Collections (SaveResult, UpsertResult or DeleteResult). */
interface CollectionResult {
  id?: string;
  success: boolean;
  created?: boolean;
  errors: SalesforceRecordError[];
}

/**
 * Writes changes of one operation through sObject Collections with allOrNone=false, so a
 * bad record fails alone: POST (insert), PATCH (update), PATCH …/{Object}/{ExternalIdField}
 * (upsert), DELETE ?ids= (delete). One request per 200 records.
 */
export async function writeCollections(setup: WriteSetup, scope: CallScope, op: Operation, changes: Change[]): Promise<RecordResult[]> {
  const results: RecordResult[] = [];
  for (let start = 0; start < changes.length; start += COLLECTION_LIMIT) {
    results.push(...(await writeChunk(setup, scope, op, changes.slice(start, start + COLLECTION_LIMIT))));
  }
  return results;
}

async function writeChunk(setup: WriteSetup, scope: CallScope, op: Operation, changes: Change[]): Promise<RecordResult[]> {
  const { object, externalIdField } = setup;
  if (op === 'delete') {
    const { targets, rejected } = await resolveIds(setup, scope, changes);
    if (!targets.length) return rejected;
    const ids = targets.map((target) => target.id).join(',');
    const { body } = await setup.client.request<CollectionResult[]>(scope, 'DELETE', `/composite/sobjects?ids=${encodeURIComponent(ids)}&allOrNone=false`);
    return [...rejected, ...pair(setup, targets.map((target) => target.change), body, targets.map((target) => target.id))];
  }

  const { readable, rejected } = splitUnreadable(setup, changes);
  if (op === 'insert') return [...rejected, ...(await save(setup, scope, 'POST', '/composite/sobjects', readable, []))];

  if (op === 'update' || externalIdField === undefined || externalIdField === 'Id') {
    // Upserting on Id is an update: Collections upserts only on External ID fields.
    const resolved = await resolveIds(setup, scope, readable);
    const ids = resolved.targets.map((target) => target.id);
    const sent = await save(setup, scope, 'PATCH', '/composite/sobjects', resolved.targets.map((target) => target.change), ids);
    return [...rejected, ...resolved.rejected, ...sent];
  }

  const identified = readable.filter((change) => present(change.match[externalIdField]));
  const unidentified = readable.filter((change) => !present(change.match[externalIdField]))
    .map((change) => missing(change.key, 'MISSING_ARGUMENT', `${externalIdField} is empty, and upserts match on it`, externalIdField));
  const path = `/composite/sobjects/${object}/${externalIdField}`;
  return [...rejected, ...unidentified, ...(await save(setup, scope, 'PATCH', path, identified, []))];
}

async function save(setup: WriteSetup, scope: CallScope, method: string, path: string, changes: Change[], ids: string[]): Promise<RecordResult[]> {
  if (!changes.length) return [];
  const records = changes.map((change, index) => {
    const record: Record<string, unknown> = { attributes: { type: setup.object } };
    for (const [name, value] of Object.entries(payloadOf(change))) {
      if (name !== 'Id') record[name] = jsonValue(value, setup.fields.get(name));
    }
    if (ids[index]) record.Id = ids[index];
    return record;
  });
  const { body } = await setup.client.request<CollectionResult[]>(scope, method, path, { json: { allOrNone: false, records } });
  return pair(setup, changes, body, ids);
}

/** Results come back in the order records were sent. */
function pair(setup: WriteSetup, changes: Change[], body: CollectionResult[], ids: string[]): RecordResult[] {
  if (!Array.isArray(body) || body.length !== changes.length) {
    throw new SyncError('terminal', `destination "${setup.destination}": Salesforce answered ${Array.isArray(body) ? body.length : 'no'} results for ${changes.length} records`);
  }
  return changes.map((change, index): RecordResult => {
    const result = body[index];
    if (result.success) return { key: change.key, outcome: 'delivered', destId: result.id ?? ids[index] };
    const errors = result.errors?.length ? result.errors : [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'Salesforce gave no reason' }];
    const rejection = rejectionFor(errors[0]);
    if (errors.length > 1) rejection.message = errors.map((error) => `${error.statusCode}: ${error.message}`).join('; ');
    return { key: change.key, outcome: 'rejected', rejection };
  });
}
