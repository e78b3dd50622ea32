import path from 'node:path';
import { z } from 'zod';
import type { SourceType } from '../registry.ts';
import { DuckdbSource, MEMORY } from './duckdb-source.ts';

export const duckdbSettings = z.strictObject({
  /** The database file, relative to the project folder, or ":memory:" (models then read files). */
  path: z.string().min(1),
});
export type DuckdbSettings = z.infer<typeof duckdbSettings>;

export const duckdbSourceType: SourceType<DuckdbSettings> = {
  type: 'duckdb',
  settings: duckdbSettings,
  create: (config, rootDir) =>
    new DuckdbSource(config.name, config.path === MEMORY ? MEMORY : path.resolve(rootDir, config.path), rootDir),
};
