import { z } from 'zod';
import type { DestinationType } from '../registry.ts';
import { SalesforceDestination } from './salesforce-destination.ts';

const clientCredentials = z.strictObject({ clientId: z.string().min(1), clientSecret: z.string().min(1) });
const jwtBearer = z.strictObject({
  clientId: z.string().min(1),
  /** The Salesforce user the integration acts as. */
  username: z.string().min(1),
  /** PEM text of the RSA private key whose certificate is uploaded to the connected app. */
  privateKey: z.string().min(1),
});
const refreshToken = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1).optional(),
  refreshToken: z.string().min(1),
});

export const salesforceConnection = z.strictObject({
  /** The org's My Domain URL (any base URL works: sandboxes, tests). */
  instanceUrl: z.url().optional(),
  /** Where tokens come from. Default: instanceUrl for client credentials, else https://login.salesforce.com. */
  loginUrl: z.url().optional(),
  apiVersion: z.string().regex(/^\d+\.\d$/, 'write the API version as in "62.0"').default('62.0'),
  auth: z.union([jwtBearer, refreshToken, clientCredentials]),
  /** Daily API requests left untouched for the org's other integrations: the run stops there. Default: 2 % of the daily limit. */
  quotaReserve: z.int().min(0).optional(),
});
export type SalesforceConnection = z.infer<typeof salesforceConnection>;

export const SALESFORCE_APIS = ['auto', 'rest', 'bulk'] as const;

export const salesforceSyncOptions = z.strictObject({
  /** The sObject written, as Salesforce names it: Contact, Account, Product2, My_Object__c. */
  object: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'an sObject API name, like Contact or My_Object__c'),
  /** rest: sObject Collections (200 per request); bulk: Bulk API 2.0 jobs; auto: bulk above bulkThreshold. */
  api: z.enum(SALESFORCE_APIS).default('auto'),
  bulkThreshold: z.int().positive().default(10_000),
  /** Rows per Bulk job (one job per write). Bulk 2.0 takes up to 150 MB of CSV per job. */
  bulkJobSize: z.int().positive().max(1_000_000).default(100_000),
  /** The external ID (or idLookup) field upserts match on. Default: the sync's match field. */
  externalIdField: z.string().optional(),
});
export type SalesforceSyncOptions = z.infer<typeof salesforceSyncOptions>;

export const salesforceDestinationType: DestinationType<SalesforceConnection, SalesforceSyncOptions> = {
  type: 'salesforce',
  connection: salesforceConnection,
  syncOptions: salesforceSyncOptions,
  secretSettings: ['auth.clientSecret', 'auth.privateKey', 'auth.refreshToken'],
  create: (init) => new SalesforceDestination(init),
};
