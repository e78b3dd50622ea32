import { z } from 'zod';
import { serverUrl } from '../../config/url-setting.ts';
import type { SourceType } from '../registry.ts';
import { warehouseDiffSettings } from '../warehouse-diff-settings.ts';
import { PostgresSource } from './postgres-source.ts';

export const postgresSettings = z
  .strictObject({
    /** postgres://user:password@host:5432/database — or the separate settings below. */
    url: serverUrl('postgres').optional(),
    host: z.string().min(1).optional(),
    port: z.int().positive().max(65535).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    database: z.string().min(1).optional(),
    ...warehouseDiffSettings,
    /** TLS to the server: true verifies its certificate; "no-verify" encrypts without verifying. */
    ssl: z.union([z.boolean(), z.literal('no-verify')]).optional(),
  })
  .refine((s) => (s.url === undefined) !== (s.host === undefined), {
    message: 'set either url, or host (with port, user, password, database)',
  });
export type PostgresSettings = z.infer<typeof postgresSettings>;

export const postgresSourceType: SourceType<PostgresSettings> = {
  type: 'postgres',
  settings: postgresSettings,
  // A URL may carry the password, so it is as secret as the password itself.
  secretSettings: ['password', 'url'],
  create: (config) => new PostgresSource(config.name, config),
};
