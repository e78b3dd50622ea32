import { keyOfRow, rowFingerprinter } from '../../src/diff/fingerprint/fingerprint-v1.ts';
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
