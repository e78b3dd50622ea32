import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { keyOfRow, rowFingerprinter } from '../../src/diff/fingerprint/fingerprint-v1.ts';
import { quoteIdentifier } from '../../src/sql-identifier.ts';
import { COLUMNS, generateRows } from './fingerprint-rows.ts';
import type { FingerprintSql } from '../../src/diff/warehouse/warehouse-session.ts';
import type { Column, Row, Source } from '../../src/sources/source.ts';

/**
 * Recipe v1 in a warehouse's SQL against TypeScript, row by row: `source` reads `table` with the
 * SQL fingerprint of `inputs` and the SQL key of each of `keys`, and each row read back is
 * fingerprinted and keyed again in TypeScript. Answers the rows read and up to 3 disagreements.
 */
export async function sqlAgreement(source: Source, sql: FingerprintSql, table: string, inputs: Column[], keys: Column[][]) {
  const signature = `m1:${sql.name}-agreement`;
  const fingerprint = rowFingerprinter(signature, inputs);
  const query = `SELECT ${sql.asText(sql.fingerprint(signature, inputs))} AS lm_fp,
    ${keys.map((k, i) => `${sql.key(k)} AS lm_key${i}`).join(', ')}, t.* FROM ${table} AS t ORDER BY t.${sql.quote('id')}`;
  const disagreements: unknown[] = [];
  let count = 0;
  for await (const chunk of source.read(query, { chunkSize: 1000, signal: new AbortController().signal })) {
    for (const row of chunk.rows as Row[]) {
      count++;
      const expected = [fingerprint(row), ...keys.map((k) => keyOfRow(k, row))];
      const actual = [String(row.lm_fp), ...keys.map((_, i) => (row[`lm_key${i}`] == null ? null : String(row[`lm_key${i}`])))];
      if (JSON.stringify(expected) !== JSON.stringify(actual) && disagreements.length < 3) disagreements.push({ expected, actual, row });
    }
  }
  return { count, disagreements };
}

/** The generated columns of the types every warehouse's SQL recipe covers (no double, no zoneless timestamp). */
export const COVERED = COLUMNS.filter((c) => ['bigint', 'integer', 'varchar', 'decimal', 'boolean', 'date', 'timestamptz'].includes(c.type));

/**
 * Creates table `t` of COVERED columns in a fake whose SQL runs in DuckDB (`exec`), filled with
 * `count` generated rows. Left out: infinite dates and instants, which the warehouses do not
 * hold, and text with a leading U+FEFF, which the fakes' @duckdb/node-api decoder drops
 * (fingerprint-agreement.test.ts): such rows would test the fake, not the recipe. Answers the
 * rows loaded.
 */
export async function loadCoveredRows(exec: (sql: string) => Promise<unknown>, count: number, seed: number): Promise<number> {
  const generated = generateRows(count, seed)
    .filter((g) => !Object.values(g.text).some((t) => t?.startsWith('\ufeff') || t === 'infinity' || t === '-infinity'));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lm-covered-rows-'));
  try {
    const file = path.join(dir, 'rows.json');
    await writeFile(file, generated.map((g) => JSON.stringify(g.text)).join('\n'));
    const record = COVERED.map((c) => `${quoteIdentifier(c.name)}: 'VARCHAR'`).join(', ');
    const casts = COVERED.map((c) => `CAST(${quoteIdentifier(c.name)} AS ${c.duckdb}) AS ${quoteIdentifier(c.name)}`).join(', ');
    await exec(`CREATE TABLE t AS SELECT ${casts} FROM read_json('${file}', format = 'newline_delimited', columns = {${record}})`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return generated.length;
}
