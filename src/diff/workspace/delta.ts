import type { Workspace } from './workspace.ts';
import { duckString } from './workspace.ts';
import { DIFF_TABLE, keyedModel, type DiffInput } from './compute-diff.ts';
import { fingerprintSql } from './fingerprint-sql.ts';

export const DELTA_TABLE = 'lastmile_delta';

export type ChangeKind = 'added' | 'changed' | 'removed';

/**
 * The differences with their model columns: the diff's keys joined back to the model (a scan
 * that keeps only those keys; only they are fingerprinted with recipe v1). Each row keeps the
 * fingerprints of the values it now carries (`__fp`, and the local `__lfp`), so state records
 * exactly what was sent even if the warehouse moved between the two reads.
 * `samplePerKind` keeps only the first N keys of each kind (for `plan`).
 */
export async function materializeDelta(
  workspace: Workspace,
  input: Pick<DiffInput, 'modelSql' | 'modelParams' | 'plan' | 'previous'>,
  kinds: ChangeKind[],
  samplePerKind?: number,
): Promise<void> {
  const db = workspace.connection;
  const wanted = kinds.length ? kinds.map(duckString).join(', ') : `''`;
  const sample = samplePerKind ? `QUALIFY row_number() OVER (PARTITION BY __change ORDER BY __key) <= ${samplePerKind}` : '';
  await db.run(`DROP TABLE IF EXISTS ${DELTA_TABLE}`);
  // The fingerprint is computed outside the join, where only the model's columns carry their names.
  await db.run(
    `CREATE TEMP TABLE ${DELTA_TABLE} AS
     SELECT ${fingerprintSql(input.plan)} AS __fp, *
     FROM (
       SELECT d.__change, d.__key AS __change_key, p.status AS __prev_status, p.dest_id AS __dest_id, p."match" AS __prev_match, m.*
       FROM (SELECT * FROM ${DIFF_TABLE} WHERE __change IN (${wanted}) ${sample}) AS d
       LEFT JOIN ${input.previous} AS p ON p.key = d.__key
       LEFT JOIN (${keyedModel(input)}) AS m ON m.__key = d.__key
     )`,
    input.modelParams as never,
  );
}
