import { quoteIdentifier } from '../../sql-identifier.ts';
import { redshiftFingerprint, redshiftKey } from '../fingerprint/redshift-fingerprint.ts';
import { codePointLiteral } from '../fingerprint/portable-fingerprint.ts';
import type { WarehouseDialect } from './warehouse-session.ts';

/**
 * Amazon Redshift, in the SQL it documents. Its TEXT is a VARCHAR(256), so state columns are
 * sized; it has no INSERT … ON CONFLICT, and its MERGE takes only a table as source, so the row
 * state deletes the keys and inserts them again in one transaction (no `upsert`). Scratch
 * tables are plain tables (a TEMP table lives in one connection, and the diff uses several).
 */
export const redshiftDialect: WarehouseDialect = {
  name: 'redshift',
  quote: quoteIdentifier,
  placeholder: (index) => `$${index}`,
  literal: (text) => codePointLiteral(text, (code) => `CHR(${code})`),
  asText: (expr) => `CAST(${expr} AS VARCHAR)`,
  fingerprint: redshiftFingerprint,
  key: redshiftKey,
  types: { name: 'VARCHAR(64)', key: 'VARCHAR(65535)', fp: 'DECIMAL(20,0)', text: 'VARCHAR(65535)' },
  createSchema: (schema) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`,
  createScratch: (table, select) => `CREATE TABLE ${table} AS ${select}`,
  indexScratch: () => [],
};
