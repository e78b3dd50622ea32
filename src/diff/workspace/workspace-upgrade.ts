import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { StateStore } from '../../state/state-store.ts';
import { FORGOTTEN_FP, quoteLiteral } from '../../state/row-state-sql.ts';
import { keyedModel, type DiffInput } from './compute-diff.ts';
import { fingerprintSql, legacyKeySql } from './fingerprint-sql.ts';
import type { Workspace } from './workspace.ts';

/**
 * Moves a state written before fingerprint recipe v1 (keys cast by DuckDB, fingerprints from its
 * hash()) to v1, in one pass over the model, without re-sending a row that did not change:
 * each model row gets its old key and old fingerprint (the local fingerprint is that same hash)
 * beside the new ones. A state row whose old fingerprint still matches takes the row's new key,
 * new fingerprint and local fingerprint; one that changed takes the new key and a forgotten
 * fingerprint (the diff then sends it); one that left the model keeps its key. `legacy` is the
 * relation of the old state; the v1 state is created as `target`.
 *
 * With `persist`, the v1 state replaces the old one in the store (atomically, recipe v1 from then
 * on), so the run's commits land on v1 keys; without (plan, dry run), it lives in the workspace only.
 */
export async function upgradeLegacyState(
  workspace: Workspace,
  input: Pick<DiffInput, 'modelSql' | 'modelParams' | 'plan'>,
  legacy: string,
  target: string,
  persist: { store: StateStore; sync: string } | undefined,
): Promise<void> {
  const db = workspace.connection;
  const oldKey = legacyKeySql(input.plan.primaryKey.map((c) => c.name));
  await db.run(
    `CREATE OR REPLACE TEMP TABLE ${target} AS
     WITH m AS (
       SELECT __key, __lfp, ${fingerprintSql(input.plan)} AS __fp, ${oldKey} AS __old_key
       FROM (${keyedModel(input)})
     )
     SELECT coalesce(m.__key, s.key) AS key,
            CASE WHEN m.__lfp = s.fp THEN m.__fp ELSE ${FORGOTTEN_FP}::UBIGINT END AS fp,
            s.status, s.dest_id, s."match",
            CASE WHEN m.__lfp = s.fp THEN m.__lfp END AS local_fp
     FROM ${legacy} AS s LEFT JOIN m ON m.__old_key = s.key
     QUALIFY row_number() OVER (PARTITION BY coalesce(m.__key, s.key) ORDER BY (m.__lfp = s.fp) DESC NULLS LAST) = 1`,
    input.modelParams as never,
  );
  if (!persist) return;
  const file = path.join(os.tmpdir(), `lastmile-upgrade-${randomUUID()}.parquet`);
  try {
    await db.run(`COPY ${target} TO ${quoteLiteral(file)} (FORMAT parquet)`);
    await persist.store.replaceRowState(persist.sync, { parquet: file });
  } finally {
    await fs.rm(file, { force: true });
  }
}
