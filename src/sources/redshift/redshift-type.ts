import { z } from 'zod';
import { warehouseDiffSettings } from '../warehouse-diff-settings.ts';
import type { SourceType } from '../registry.ts';
import { RedshiftSource } from './redshift-source.ts';

export const redshiftSettings = z
  .strictObject({
    /** postgres://user:password@cluster.abc.eu-west-1.redshift.amazonaws.com:5439/dev — or the settings below. */
    url: z.string().regex(/^(postgres|postgresql|redshift):\/\//, { error: 'must start with postgres:// or redshift://' })
      .refine((url) => URL.canParse(url.replace(/^redshift:/, 'postgres:')), { error: 'not a valid URL: expected redshift://user:password@host:5439/database; percent-encode special characters in the password' })
      .optional(),
    host: z.string().min(1).optional(),
    port: z.int().positive().max(65535).optional().describe('Default 5439'),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    database: z.string().min(1).optional(),
    /** TLS: true verifies the certificate (Redshift's is public); "no-verify" encrypts without verifying. */
    ssl: z.union([z.boolean(), z.literal('no-verify')]).optional(),
    /** Rows per FETCH (Redshift allows at most 1000 on a single-node cluster). */
    fetchSize: z.int().min(1).max(1000).default(1000),
    ...warehouseDiffSettings,
  })
  .refine((s) => (s.url === undefined) !== (s.host === undefined), {
    message: 'set either url, or host (with port, user, password, database)',
  });
export type RedshiftSettings = z.infer<typeof redshiftSettings>;

export const redshiftSourceType: SourceType<RedshiftSettings> = {
  type: 'redshift',
  settings: redshiftSettings,
  secretSettings: ['password', 'url'],
  create: (config) => new RedshiftSource(config.name, config),
};
