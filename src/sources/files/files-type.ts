import path from 'node:path';
import { z } from 'zod';
import type { SourceType } from '../registry.ts';
import { FilesSource } from './files-source.ts';

export const filesSettings = z.strictObject({
  /** The folder holding the files, relative to the project folder. */
  path: z.string().min(1),
});
export type FilesSettings = z.infer<typeof filesSettings>;

export const filesSourceType: SourceType<FilesSettings> = {
  type: 'files',
  settings: filesSettings,
  create: (config, rootDir) => new FilesSource(config.name, path.resolve(rootDir, config.path)),
};
