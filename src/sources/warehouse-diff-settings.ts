import { z } from 'zod';
import { DEFAULT_STATE_SCHEMA, DIFF_METHODS } from '../diff/diff-method.ts';

/** Settings of a source that can run the diff itself (see diff/diff-method.ts). */
const diff = z.enum(DIFF_METHODS).optional();

export const warehouseDiffSettings = {
  diff: diff
    .describe('Where the diff runs: workspace (beside the engine, default), warehouse (in this database, state in stateSchema), engine (this database fingerprints, the engine diffs)'),
  stateSchema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, { error: 'expected a schema name: letters, digits and _, starting with a letter or _' }).optional()
    .describe(`diff: warehouse: the schema (MySQL: database) that holds the sync state; the user must be allowed to create tables there (default ${DEFAULT_STATE_SCHEMA})`),
};

/** For a source that fingerprints rows but keeps no state (ClickHouse): diff: warehouse is refused with its reason. */
export const engineDiffSettings = {
  diff: diff.describe('Where the diff runs: workspace (beside the engine, default) or engine (this database fingerprints, the engine diffs); warehouse is not available'),
};
