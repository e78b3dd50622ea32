import { quoteIdentifier } from '../../sql-identifier.ts';
import { snowflakeFingerprint, snowflakeKey } from '../fingerprint/snowflake-fingerprint.ts';
import type { WarehouseDialect } from './warehouse-session.ts';
import { mergeUpsert } from './merge-upsert.ts';

/**
 * A string literal whatever Snowflake makes of backslashes (its single-quoted strings read
 * them as escapes): each backslash is written CHR(92).
 */
export function snowflakeLiteral(text: string): string {
  return text.split('\\').map((part) => `'${part.replaceAll("'", "''")}'`).join(' || CHR(92) || ');
}

/**
 * Snowflake. Scratch tables are TRANSIENT (no Fail-safe copy of what a crash may lose); the
 * state table is upserted with MERGE, Snowflake having no INSERT … ON CONFLICT. Snowflake
 * keeps no index to build; its joins hash.
 */
export const snowflakeDialect: WarehouseDialect = {
  name: 'snowflake',
  quote: quoteIdentifier,
  placeholder: () => '?',
  literal: snowflakeLiteral,
  asText: (expr) => `TO_VARCHAR(${expr})`,
  fingerprint: snowflakeFingerprint,
  key: snowflakeKey,
  types: { name: 'VARCHAR', key: 'VARCHAR', fp: 'DECIMAL(20,0)', text: 'VARCHAR' },
  createSchema: (schema) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`,
  createScratch: (table, select) => `CREATE TRANSIENT TABLE ${table} AS ${select}`,
  indexScratch: () => [],
  upsert: mergeUpsert(quoteIdentifier, () => '?'),
};
