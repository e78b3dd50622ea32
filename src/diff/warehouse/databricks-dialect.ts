import { databricksFingerprint, databricksKey, databricksQuote } from '../fingerprint/databricks-fingerprint.ts';
import { codePointLiteral } from '../fingerprint/portable-fingerprint.ts';
import { mergeUpsert } from './merge-upsert.ts';
import type { WarehouseDialect } from './warehouse-session.ts';

const FP = 'DECIMAL(20,0)';

/**
 * Databricks SQL on Delta tables. The state table declares no primary key (Databricks takes one
 * only in Unity Catalog, and never enforces it): MERGE keeps one row a key. Parameters are named
 * markers (`:p1`) and arrive as STRING, so the fingerprint is cast on its way in.
 */
export const databricksDialect: WarehouseDialect = {
  name: 'databricks',
  quote: databricksQuote,
  placeholder: (index) => `:p${index}`,
  literal: (text) => codePointLiteral(text, (code) => `chr(${code})`),
  asText: (expr) => `CAST(${expr} AS STRING)`,
  fingerprint: databricksFingerprint,
  key: databricksKey,
  types: { name: 'STRING', key: 'STRING', fp: FP, text: 'STRING' },
  createSchema: (schema) => `CREATE SCHEMA IF NOT EXISTS ${databricksQuote(schema)}`,
  declaresPrimaryKey: false,
  createScratch: (table, select) => `CREATE TABLE ${table} AS ${select}`,
  indexScratch: () => [],
  upsert: mergeUpsert(databricksQuote, (index) => `:p${index}`, { fp: FP }),
};
