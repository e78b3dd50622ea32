import { z } from 'zod';
import { engineDiffSettings } from '../warehouse-diff-settings.ts';
import type { SourceType } from '../registry.ts';
import { ClickhouseSource } from './clickhouse-source.ts';

export const clickhouseSettings = z.strictObject({
  /** The HTTP interface: http://host:8123 (https://host:8443 on ClickHouse Cloud). */
  url: z.url({ protocol: /^https?$/ }).describe('HTTP interface URL, like https://abc123.eu-west-1.aws.clickhouse.cloud:8443'),
  user: z.string().min(1).default('default'),
  password: z.string().optional(),
  database: z.string().min(1).optional().describe('Default database for unqualified table names'),
  ...engineDiffSettings,
});
export type ClickhouseSettings = z.infer<typeof clickhouseSettings>;

export const clickhouseSourceType: SourceType<ClickhouseSettings> = {
  type: 'clickhouse',
  settings: clickhouseSettings,
  secretSettings: ['password'],
  create: (config) => new ClickhouseSource(config.name, config),
};
