import { quoteIdentifier } from '../../sql-identifier.ts';
import { postgresFingerprint, postgresKey } from '../fingerprint/postgres-fingerprint.ts';
import type { WarehouseDialect } from './warehouse-session.ts';

/** PostgreSQL 14+: scratch tables are UNLOGGED (no WAL for what a crash may lose). */
export const postgresDialect: WarehouseDialect = {
  name: 'postgres',
  quote: quoteIdentifier,
  placeholder: (index) => `$${index}`,
  literal: (text) => `E'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`,
  asText: (expr) => `(${expr})::text`,
  fingerprint: postgresFingerprint,
  key: postgresKey,
  types: { name: 'text', key: 'text', fp: 'numeric(20,0)', text: 'text' },
  createSchema: (schema) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`,
  createScratch: (table, select) => `CREATE UNLOGGED TABLE ${table} AS ${select}`,
  indexScratch: () => [],
  upsert(table, columns, conflict, rows) {
    let n = 0;
    const values = Array.from({ length: rows }, () => `(${columns.map(() => `$${++n}`).join(', ')})`).join(', ');
    const set = columns.filter((c) => !conflict.includes(c)).map((c) => `${quoteIdentifier(c)} = EXCLUDED.${quoteIdentifier(c)}`);
    return `INSERT INTO ${table} (${columns.map(quoteIdentifier).join(', ')}) VALUES ${values}
            ON CONFLICT (${conflict.map(quoteIdentifier).join(', ')}) DO UPDATE SET ${set.join(', ')}`;
  },
};
