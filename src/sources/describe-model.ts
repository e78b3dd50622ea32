import type { ModelConfig } from '../config/project.ts';
import type { Column, Source } from './source.ts';

/**
 * A model's columns without reading its rows: its query wrapped in `LIMIT 0`, run on its
 * source. `check` uses it to validate keys and mappings exactly as a run would, in a second.
 * The trailing newline keeps a model ending in a `-- comment` valid.
 */
export async function describeModel(source: Source, model: ModelConfig, signal: AbortSignal): Promise<Column[]> {
  const base = model.sql ?? source.tableQuery(model.table!);
  const sql = `SELECT * FROM (${base}\n) AS lastmile_model LIMIT 0`;
  for await (const chunk of source.read(sql, { chunkSize: 1, signal })) return chunk.columns;
  return [];
}

/**
 * A database's error about a model's query, without the SQL Lastmile wrapped around the
 * model: DuckDB echoes the statement (`LINE 1: SELECT * FROM (…`) with a caret, MySQL quotes
 * it from the error on (`near '…) AS lastmile_model' at line 1`). The user wrote neither.
 */
export function modelQueryMessage(message: string): string {
  return message
    .replace(/\n*LINE \d+:[^\n]*(\n[ \t]*\^)?/g, '')
    .replace(/\s*\)\s*AS lastmile_\w+(\s+(WHERE|LIMIT)\b[^']*)?/g, '')
    .trim();
}
