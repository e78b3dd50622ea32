import { exportPKCS8, generateKeyPair } from 'jose';
import type { SyncConfig, FieldMapping } from '../../../src/config/project.ts';
import type { Change } from '../../../src/destinations/destination.ts';
import type { Value } from '../../../src/sources/source.ts';
import type { BulkTiming } from '../../../src/destinations/salesforce/salesforce-bulk.ts';
import { SalesforceDestination } from '../../../src/destinations/salesforce/salesforce-destination.ts';
import { salesforceConnection, salesforceSyncOptions } from '../../../src/destinations/salesforce/salesforce-type.ts';
import { startFakeSalesforce, type FakeSalesforce, type FakeSalesforceOptions } from '../../fakes/salesforce/fake-salesforce.ts';

export const CLIENT = { clientId: '3MVG9fake.consumer.key', clientSecret: 'sf-secret-5b1e0c7d' };
export const REFRESH_TOKEN = '5Aep861fake.refresh.token';
export const USERNAME = 'integration@example.com';

let keys: ReturnType<typeof generateKeyPair> | undefined;

/**
 * A fake org with one connected app that allows all three flows. The RSA key pair for the
 * JWT flow is made only when asked (`jwt: true`): generating one takes a moment.
 */
export async function startOrg(options: Partial<FakeSalesforceOptions> & { jwt?: boolean } = {}): Promise<{ fake: FakeSalesforce; privateKeyPem: string }> {
  const { jwt, ...rest } = options;
  if (jwt) keys ??= generateKeyPair('RS256', { extractable: true });
  const pair = jwt ? await keys! : undefined;
  const fake = await startFakeSalesforce({
    apps: [{ ...CLIENT, publicKey: pair?.publicKey, usernames: [USERNAME], refreshTokens: [REFRESH_TOKEN] }],
    ...rest,
  });
  return { fake, privateKeyPem: pair ? await exportPKCS8(pair.privateKey) : '' };
}

export interface DestinationSetup {
  auth?: Record<string, string>;
  object?: string;
  mode?: SyncConfig['mode'];
  match?: Record<string, string>;
  /** Destination fields written (mapped from a column of the same name). */
  fields?: string[];
  options?: Record<string, unknown>;
  connection?: Record<string, unknown>;
  /** Bulk job polling; quick by default, for fakes that finish after a number of polls. */
  timing?: BulkTiming;
}

/** A Salesforce destination for a Contact sync pointed at the fake (both instance and login URL). */
export function contactDestination(fake: FakeSalesforce, setup: DestinationSetup = {}): SalesforceDestination {
  const fields = setup.fields ?? ['LastName', 'FirstName', 'Email', 'Level__c', 'Score__c', 'Birthdate'];
  const mapping: Record<string, FieldMapping> = Object.fromEntries(fields.map((name) => [name, { kind: 'column', column: name }]));
  const sync: SyncConfig = {
    name: 'contacts_to_sf', model: 'contacts', destination: 'crm', mode: setup.mode ?? 'upsert',
    match: setup.match ?? { email: 'Email' }, mapping, options: { object: setup.object ?? 'Contact', ...setup.options },
  };
  const connection = salesforceConnection.parse({ instanceUrl: fake.url, loginUrl: fake.url, auth: setup.auth ?? CLIENT, ...setup.connection });
  const options = salesforceSyncOptions.parse(sync.options);
  return new SalesforceDestination(
    { connection: { ...connection, name: 'crm', type: 'salesforce' }, options, sync, rootDir: process.cwd() },
    setup.timing ?? { pollMs: 1, maxPollMs: 5 },
  );
}

export { recordingContext } from '../../helpers/write-context.ts';

/** A change keyed by email, matched on Email. */
export function contact(op: Change['op'], email: string, fields: Record<string, Value> = {}, destId?: string): Change {
  return {
    key: email, op, match: { Email: email },
    fields: op === 'delete' ? {} : { Email: email, LastName: `Last ${email.split('@')[0]}`, ...fields },
    ...(destId ? { destId } : {}),
  };
}

export function byKey<T extends { key: string }>(results: T[]): Map<string, T> {
  return new Map(results.map((result) => [result.key, result]));
}
