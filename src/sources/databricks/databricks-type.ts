import { z } from 'zod';
import { warehouseDiffSettings } from '../warehouse-diff-settings.ts';
import type { SourceType } from '../registry.ts';
import { DatabricksSource } from './databricks-source.ts';

export const databricksSettings = z.strictObject({
  /** The workspace URL: https://adb-1234567890123456.7.azuredatabricks.net or https://dbc-a1b2c3d4-e5f6.cloud.databricks.com */
  host: z.url({ protocol: /^https?$/ }).describe('Workspace URL, like https://dbc-a1b2c3d4-e5f6.cloud.databricks.com'),
  token: z.string().min(1).describe('Personal access token (or an OAuth access token) of a user or service principal'),
  warehouseId: z.string().min(1).describe('The SQL warehouse that runs the queries (its ID, from its connection details)'),
  catalog: z.string().min(1).optional().describe('Default catalog, like USE CATALOG'),
  schema: z.string().min(1).optional().describe('Default schema, like USE SCHEMA'),
  waitTimeout: z.int().refine((s) => s === 0 || (s >= 5 && s <= 50), { error: 'must be 0, or 5 to 50 (seconds), as the API accepts' })
    .default(10).describe('Seconds a request waits for the statement before polling (0, or 5–50)'),
  disposition: z.enum(['EXTERNAL_LINKS', 'INLINE']).default('EXTERNAL_LINKS')
    .describe('How results come back: EXTERNAL_LINKS (presigned URLs, any size; the default) or INLINE (in the API answer, at most 25 MiB a statement)'),
  ...warehouseDiffSettings,
});
export type DatabricksSettings = z.infer<typeof databricksSettings>;

export const databricksSourceType: SourceType<DatabricksSettings> = {
  type: 'databricks',
  settings: databricksSettings,
  secretSettings: ['token'],
  create: (config) => new DatabricksSource(config.name, config),
};
