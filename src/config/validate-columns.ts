import { ConfigError } from '../errors.ts';
import type { Project } from './project.ts';
import { combine } from './config-errors.ts';
import { compileTemplate } from '../mapping/template.ts';

/**
 * Which columns a model has is known only once it is read: the engine calls this with the
 * model's columns before anything is sent. Throws a ConfigError at the sync's (or model's)
 * line when the match, a mapping, a template, the primary key or the cursor names a column
 * the model does not have.
 */
export function validateColumns(project: Project, syncName: string, columns: string[]): void {
  const sync = project.syncs[syncName];
  if (!sync) throw new ConfigError(`unknown sync "${syncName}": defined syncs are ${Object.keys(project.syncs).join(', ') || '(none)'}`);
  const model = project.models[sync.model];
  const have = new Set(columns);
  const errors: ConfigError[] = [];
  const missing = (column: string) => !have.has(column);
  const lack = (column: string) => {
    const sameButCase = columns.find((candidate) => candidate.toLowerCase() === column.toLowerCase());
    const hint = sameButCase ? `did you mean "${sameButCase}"? (column names are case-sensitive)` : `its columns are ${columns.join(', ') || '(none)'}`;
    return `model "${sync.model}" has no column "${column}": ${hint}`;
  };
  const syncAt = (key: string, field: string) => ({
    file: sync.location?.file,
    line: sync.location?.lines?.[key] ?? sync.location?.line,
    field: `syncs.${syncName}.${field}`,
  });

  if (model) {
    const modelAt = (field: string) => ({
      file: model.location?.file,
      line: model.location?.lines?.[field] ?? model.location?.line,
      field: `models.${model.name}.${field}`,
    });
    for (const column of model.primaryKey.filter(missing)) errors.push(new ConfigError(lack(column), modelAt('primaryKey')));
    if (model.cursor && missing(model.cursor)) errors.push(new ConfigError(lack(model.cursor), modelAt('cursor')));
    if (model.freshness && missing(model.freshness.column)) errors.push(new ConfigError(lack(model.freshness.column), modelAt('freshness')));
    if (model.eventTime && missing(model.eventTime)) errors.push(new ConfigError(lack(model.eventTime), modelAt('eventTime')));
  }
  for (const column of Object.keys(sync.match).filter(missing)) {
    errors.push(new ConfigError(lack(column), syncAt(`match.${column}`, `match.${column}`)));
  }
  for (const [field, how] of Object.entries(sync.mapping)) {
    if (how.kind === 'column' && missing(how.column)) {
      errors.push(new ConfigError(lack(how.column), syncAt(`mapping.${field}`, `mapping.${how.column}`)));
    } else if (how.kind === 'template') {
      for (const column of (compileTemplate(how.template).inputs ?? []).filter(missing)) {
        errors.push(new ConfigError(`the template uses {{ ${column} }}, but ${lack(column)}`, syncAt(`mapping.${field}`, `mapping.${field}`)));
      }
    }
  }
  if (errors.length > 0) throw combine(errors);
}
