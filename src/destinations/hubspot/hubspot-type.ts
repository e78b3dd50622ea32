import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { DestinationType } from '../registry.ts';
import { DEFAULT_BASE_URL } from './hubspot-client.ts';
import { HubspotDestination } from './hubspot-destination.ts';

export const hubspotConnection = z.strictObject({
  /** A private app access token (`pat-…`) with the CRM object and schema scopes the syncs need. */
  token: z.string().min(1),
  /** Where the API answers; overridable for tests and proxies. */
  baseUrl: z.url().default(DEFAULT_BASE_URL),
});
export type HubspotConnection = z.infer<typeof hubspotConnection>;

export const hubspotSyncOptions = z.strictObject({
  /** The CRM object written: contacts, companies, deals, or a custom object's type id (`2-1234567`). */
  object: z.union([
    z.enum(['contacts', 'companies', 'deals']),
    z.string().regex(/^\d+-\d+$/, 'contacts, companies, deals, or a custom object type id like 2-1234567'),
  ]),
});
export type HubspotSyncOptions = z.infer<typeof hubspotSyncOptions>;

export const hubspotDestinationType: DestinationType<HubspotConnection, HubspotSyncOptions> = {
  type: 'hubspot',
  connection: hubspotConnection,
  syncOptions: hubspotSyncOptions,
  secretSettings: ['token'],
  create: (init) => {
    // Options may arrive unparsed (tests, the API): a missing object is a config mistake, not a crash.
    const options = hubspotSyncOptions.safeParse(init.options);
    if (!options.success) {
      const issue = options.error.issues[0];
      throw new ConfigError(`sync "${init.sync.name}": ${issue?.path.join('.') || 'object'}: ${issue?.message ?? 'invalid'}`, init.sync.location ?? {});
    }
    return new HubspotDestination({ ...init, options: options.data });
  },
};
