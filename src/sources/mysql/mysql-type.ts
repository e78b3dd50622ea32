import { z } from 'zod';
import { serverUrl } from '../../config/url-setting.ts';
import type { SourceType } from '../registry.ts';
import { warehouseDiffSettings } from '../warehouse-diff-settings.ts';
import { MysqlSource } from './mysql-source.ts';

export const mysqlSettings = z
  .strictObject({
    /** mysql://user:password@host:3306/database — or the separate settings below. */
    url: serverUrl('mysql').optional(),
    host: z.string().min(1).optional(),
    port: z.int().positive().max(65535).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    database: z.string().min(1).optional(),
    ...warehouseDiffSettings,
  })
  .refine((s) => (s.url === undefined) !== (s.host === undefined), {
    message: 'set either url, or host (with port, user, password, database)',
  });
export type MysqlSettings = z.infer<typeof mysqlSettings>;

export const mysqlSourceType: SourceType<MysqlSettings> = {
  type: 'mysql',
  settings: mysqlSettings,
  // A URL may carry the password, so it is as secret as the password itself.
  secretSettings: ['password', 'url'],
  create: (config) => new MysqlSource(config.name, config),
};
