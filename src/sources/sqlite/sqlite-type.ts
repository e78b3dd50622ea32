import path from 'node:path';
import { z } from 'zod';
import type { SourceType } from '../registry.ts';
import { SqliteSource } from './sqlite-source.ts';

export const sqliteSettings = z.strictObject({
  /** The database file, relative to the project folder. */
  path: z.string().min(1),
});
export type SqliteSettings = z.infer<typeof sqliteSettings>;

export const sqliteSourceType: SourceType<SqliteSettings> = {
  type: 'sqlite',
  settings: sqliteSettings,
  create: (config, rootDir) => new SqliteSource(config.name, path.resolve(rootDir, config.path), rootDir),
};
