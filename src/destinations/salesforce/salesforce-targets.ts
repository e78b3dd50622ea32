import type { Change, RecordResult } from '../destination.ts';
import type { CallScope, SalesforceClient } from './salesforce-client.ts';
import type { SalesforceField } from './salesforce-describe.ts';
import { lookupIds, lookupKey } from './salesforce-lookup.ts';
import { typeProblem } from './salesforce-values.ts';

/** What every write path needs to know about the sync and the org. */
export interface WriteSetup {
  destination: string;
  client: SalesforceClient;
  object: string;
  /** The field upserts match on, and updates and deletes look Ids up by. */
  externalIdField: string | undefined;
  fields: Map<string, SalesforceField>;
}

export interface Targeted {
  change: Change;
  /** The Salesforce record Id (updates, deletes). */
  id: string;
}

/** The payload sent for a change: mapped fields plus its match fields. */
export function payloadOf(change: Change): Change['fields'] {
  return { ...change.match, ...change.fields };
}

/**
 * The Salesforce Id each update or delete is about: the one remembered from an earlier
 * delivery, an `Id` match, or else one SOQL lookup by the external id for the whole batch.
 * A row no record holds is rejected as missing_identifier, without a write.
 */
export async function resolveIds(setup: WriteSetup, scope: CallScope, changes: Change[]): Promise<{ targets: Targeted[]; rejected: RecordResult[] }> {
  const targets: Targeted[] = [];
  const rejected: RecordResult[] = [];
  const unknown: Change[] = [];
  const field = setup.externalIdField;
  for (const change of changes) {
    const id = change.destId ?? (typeof change.match.Id === 'string' && change.match.Id ? change.match.Id : undefined);
    if (id) targets.push({ change, id });
    else if (field && field !== 'Id' && present(change.match[field])) unknown.push(change);
    else rejected.push(missing(change.key, 'MISSING_ARGUMENT', `no Salesforce Id is known for this row and it has no ${field ?? 'identifier'} value to look one up by`, field));
  }
  if (!unknown.length || !field) return { targets, rejected };

  const found = await lookupIds(setup.client, scope, setup.object, field, unknown.map((change) => change.match[field]));
  for (const change of unknown) {
    const value = change.match[field];
    const ids = found.get(lookupKey(value)) ?? [];
    if (ids.length === 1) targets.push({ change, id: ids[0] });
    else if (!ids.length) rejected.push(missing(change.key, 'NOT_FOUND', `no ${setup.object} has ${field} = ${String(value)}`, field));
    else {
      rejected.push({
        key: change.key, outcome: 'rejected',
        rejection: {
          category: 'destination_error', code: 'DUPLICATE_EXTERNAL_ID', field, retryable: false,
          message: `${ids.length} ${setup.object} records have ${field} = ${String(value)} (${ids.join(', ')}); make it unique, or match on a unique External ID field`,
        },
      });
    }
  }
  return { targets, rejected };
}

/**
 * Rows whose values Salesforce cannot read as the field's type. sObject Collections would
 * fail the whole request for one of them (JSON_PARSER_ERROR), so they are refused here, alone.
 */
export function splitUnreadable(setup: WriteSetup, changes: Change[]): { readable: Change[]; rejected: RecordResult[] } {
  const readable: Change[] = [];
  const rejected: RecordResult[] = [];
  for (const change of changes) {
    const problem = Object.entries(payloadOf(change)).flatMap(([name, value]) => {
      const field = setup.fields.get(name);
      const message = field && typeProblem(value, field);
      return message ? [{ name, message }] : [];
    })[0];
    if (!problem) readable.push(change);
    else {
      rejected.push({
        key: change.key, outcome: 'rejected',
        rejection: { category: 'schema_mismatch', code: 'INVALID_TYPE_ON_FIELD_IN_RECORD', field: problem.name, message: `${problem.message} (refused before sending)`, retryable: false },
      });
    }
  }
  return { readable, rejected };
}

export function present(value: unknown): boolean {
  return value !== null && value !== undefined && value !== '';
}

export function missing(key: string, code: string, message: string, field?: string): RecordResult {
  return { key, outcome: 'rejected', rejection: { category: 'missing_identifier', code, message, retryable: false, ...(field ? { field } : {}) } };
}
