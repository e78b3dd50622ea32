import { z } from 'zod';
import type { SourceType } from '../registry.ts';
import { SnowflakeSource } from './snowflake-source.ts';

const keyPair = z.strictObject({
  /** PEM text of the user's RSA private key (PKCS#8 or PKCS#1; encrypted with a passphrase, or not). */
  privateKey: z.string().min(1),
  privateKeyPassphrase: z.string().min(1).optional(),
});
const oauth = z.strictObject({
  /** An OAuth access token (from a Snowflake or external OAuth integration). */
  oauthToken: z.string().min(1),
});

export const snowflakeSettings = z.strictObject({
  /** The account identifier: `myorg-myaccount`, or a locator such as `xy12345.us-east-2.aws`. */
  account: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an account identifier such as myorg-myaccount or xy12345.us-east-2.aws'),
  /** The Snowflake user Lastmile signs in as. */
  user: z.string().min(1),
  auth: z.union([keyPair, oauth]),
  warehouse: z.string().min(1).optional(),
  database: z.string().min(1).optional(),
  schema: z.string().min(1).optional(),
  role: z.string().min(1).optional(),
  /** Where the SQL API answers. Default: https://<account>.snowflakecomputing.com. */
  url: z.url().optional(),
  /** Result partitions fetched at once. */
  partitionConcurrency: z.int().min(1).max(32).default(4),
  /** Seconds a statement may run before Snowflake cancels it (0: the account's limit). */
  statementTimeout: z.int().min(0).max(604_800).optional(),
});
export type SnowflakeSettings = z.input<typeof snowflakeSettings>;

export const snowflakeSourceType: SourceType<SnowflakeSettings> = {
  type: 'snowflake',
  settings: snowflakeSettings,
  secretSettings: ['auth.privateKey', 'auth.privateKeyPassphrase', 'auth.oauthToken'],
  create: (config) => new SnowflakeSource(config.name, config),
};
