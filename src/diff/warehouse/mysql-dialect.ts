import { mysqlFingerprint, mysqlKey } from '../fingerprint/mysql-fingerprint.ts';
import type { WarehouseDialect } from './warehouse-session.ts';

const quote = (name: string) => `\`${name.replaceAll('`', '``')}\``;
/** Keys compare byte for byte (utf8mb4_bin): a case-insensitive collation would take 'a' and 'A' for one row. */
const KEY_COLLATION = 'utf8mb4_bin';

/**
 * MySQL 8 and MariaDB 10.6+. A "schema" is a database there. Keys are at most 750 characters
 * (the primary key's index limit of 3072 bytes); scratch tables get an index on their key,
 * since MySQL joins by index lookups rather than by hashing.
 */
export const mysqlDialect: WarehouseDialect = {
  name: 'mysql',
  quote,
  placeholder: () => '?',
  literal: (text) => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`,
  asText: (expr) => `CAST(${expr} AS CHAR)`,
  fingerprint: mysqlFingerprint,
  key: (columns) => `CAST(${mysqlKey(columns)} AS CHAR(750) CHARACTER SET utf8mb4) COLLATE ${KEY_COLLATION}`,
  types: {
    name: 'VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin',
    key: `VARCHAR(750) CHARACTER SET utf8mb4 COLLATE ${KEY_COLLATION}`,
    fp: 'DECIMAL(20,0)',
    text: 'MEDIUMTEXT CHARACTER SET utf8mb4',
  },
  createSchema: (schema) => `CREATE DATABASE IF NOT EXISTS ${quote(schema)} CHARACTER SET utf8mb4`,
  createScratch: (table, select) => `CREATE TABLE ${table} ENGINE=InnoDB AS ${select}`,
  indexScratch: (table, column) => [`ALTER TABLE ${table} ADD INDEX (${quote(column)})`],
  upsert(table, columns, conflict, rows) {
    const values = Array.from({ length: rows }, () => `(${columns.map(() => '?').join(', ')})`).join(', ');
    const set = columns.filter((c) => !conflict.includes(c)).map((c) => `${quote(c)} = VALUES(${quote(c)})`);
    return `INSERT INTO ${table} (${columns.map(quote).join(', ')}) VALUES ${values} ON DUPLICATE KEY UPDATE ${set.join(', ')}`;
  },
};
