import type { z } from 'zod';
import type { Source } from './source.ts';
import type { SourceConfig } from '../config/project.ts';
import { duckdbSourceType } from './duckdb/duckdb-type.ts';
import { postgresSourceType } from './postgres/postgres-type.ts';
import { mysqlSourceType } from './mysql/mysql-type.ts';
import { sqliteSourceType } from './sqlite/sqlite-type.ts';
import { filesSourceType } from './files/files-type.ts';
import { snowflakeSourceType } from './snowflake/snowflake-type.ts';
import { bigquerySourceType } from './bigquery/bigquery-type.ts';

/** A source type: its settings schema and a factory. One entry per folder under sources/. */
export interface SourceType<Settings = any> {
  type: string;
  /** Settings besides `type`. */
  settings: z.ZodType<Settings>;
  secretSettings?: string[];
  create(config: Settings & SourceConfig, rootDir: string): Source;
}

export const sourceTypes: Record<string, SourceType> = {
  [duckdbSourceType.type]: duckdbSourceType,
  [postgresSourceType.type]: postgresSourceType,
  [mysqlSourceType.type]: mysqlSourceType,
  [sqliteSourceType.type]: sqliteSourceType,
  [filesSourceType.type]: filesSourceType,
  [snowflakeSourceType.type]: snowflakeSourceType,
  [bigquerySourceType.type]: bigquerySourceType,
};
