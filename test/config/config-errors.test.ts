import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject, validateColumns } from '../../src/config/load-project.ts';
import { ConfigError } from '../../src/errors.ts';
import { configError, loadYaml, writeProject, yaml } from './config-files.ts';

/** A valid project; each test breaks one line of it. Line numbers are the file's. */
const BASE = [
  /* 1 */ 'version: 1',
  /* 2 */ 'sources:',
  /* 3 */ '  warehouse:',
  /* 4 */ '    type: duckdb',
  /* 5 */ '    path: ":memory:"',
  /* 6 */ 'destinations:',
  /* 7 */ '  hook:',
  /* 8 */ '    type: http',
  /* 9 */ '    url: http://127.0.0.1:9/hook',
  /* 10 */ 'models:',
  /* 11 */ '  prices:',
  /* 12 */ '    source: warehouse',
  /* 13 */ '    sql: SELECT sku, price, updated_at FROM prices',
  /* 14 */ '    primaryKey: sku',
  /* 15 */ 'syncs:',
  /* 16 */ '  prices_to_hook:',
  /* 17 */ '    model: prices',
  /* 18 */ '    destination: hook',
  /* 19 */ '    mode: upsert',
  /* 20 */ '    match: { sku: id }',
  /* 21 */ '    mapping:',
  /* 22 */ '      price: amount',
  /* 23 */ '      label: { template: "{{ sku | upcase }}" }',
  /* 24 */ '    schedule: { every: 5m }',
];

/** BASE with line `n` (1-based) replaced by `lines` (none: removed). */
function edit(n: number, ...lines: string[]): string {
  return yaml(...BASE.slice(0, n - 1), ...lines, ...BASE.slice(n));
}

/** The location every message starts with: `<file>:<line> <field>: `. */
function at(error: ConfigError, line: number, field: string): string {
  expect(error.location).toMatchObject({ line, field });
  expect(error.location.file).toMatch(/lastmile\.yml$/);
  expect(error.message.startsWith(`${error.location.file}:${line} ${field}: `), error.message).toBe(true);
  return error.message.slice(`${error.location.file}:${line} ${field}: `.length);
}

describe('config mistakes name the file, line and field', () => {
  it('the base project is valid', async () => {
    await expect(loadYaml(yaml(...BASE))).resolves.toBeDefined();
  });

  it('an unknown key, with a suggestion when one is close', async () => {
    const modelKey = await configError(edit(14, '    primaryKey: sku', '    descripton: latest prices'));
    expect(at(modelKey, 15, 'models.prices.descripton')).toBe('unknown key "descripton": expected one of source, sql, table, dbt, primaryKey, cursor, diff, freshness, eventTime');

    const syncKey = await configError(edit(19, '    mdoe: upsert'));
    expect(at(syncKey, 19, 'syncs.prices_to_hook.mdoe')).toBe('unknown key "mdoe": did you mean "mode"?');

    const topKey = await configError(yaml('sources: {}', 'model: {}'));
    expect(at(topKey, 2, 'model')).toBe('unknown key "model": did you mean "models"?');

    const settingKey = await configError(edit(5, '    path: ":memory:"', '    readonly: true'));
    expect(at(settingKey, 6, 'sources.warehouse.readonly')).toMatch(/^unknown key "readonly"/);
  });

  it('a diff the source cannot run, or a state schema that is no name', async () => {
    const onDuckdb = await configError(edit(14, '    primaryKey: sku', '    diff: warehouse'));
    expect(at(onDuckdb, 15, 'models.prices.diff')).toBe(
      'diff: warehouse runs the diff inside the source\'s database, which source "warehouse" (duckdb) cannot do; use diff: workspace, or a postgres or mysql or snowflake or redshift or databricks or clickhouse source');

    const unknown = await configError(edit(14, '    primaryKey: sku', '    diff: warehose'));
    expect(at(unknown, 15, 'models.prices.diff')).toBe('expected one of workspace | warehouse | engine, got "warehose"');

    const postgres = (...settings: string[]) => yaml(...BASE.slice(0, 3), '    type: postgres', '    url: postgres://u@127.0.0.1:5432/db', ...settings, ...BASE.slice(5));
    const schema = await configError(postgres('    diff: warehouse', '    stateSchema: "lastmile; drop"'));
    expect(at(schema, 7, 'sources.warehouse.stateSchema')).toBe('expected a schema name: letters, digits and _, starting with a letter or _');

    const fine = await loadYaml(postgres('    diff: engine'));
    expect(fine.sources.warehouse).toMatchObject({ diff: 'engine' });

    const clickhouse = (...settings: string[]) => yaml(...BASE.slice(0, 3), '    type: clickhouse', '    url: http://127.0.0.1:8123', ...settings, ...BASE.slice(5));
    const noState = await configError(clickhouse('    diff: warehouse'));
    expect(at(noState, 13, 'models.prices.source')).toMatch(/^diff: warehouse is not available for source "warehouse" \(clickhouse\): ClickHouse has no transactions.*use diff: engine/);
    expect((await loadYaml(clickhouse('    diff: engine'))).sources.warehouse).toMatchObject({ diff: 'engine' });
  });

  it('a value of the wrong type or outside the allowed values', async () => {
    const mode = await configError(edit(19, '    mode: upsret'));
    expect(mode.message).toBe(`${mode.location.file}:19 syncs.prices_to_hook.mode: expected one of upsert | insert | update | mirror, got "upsret"`);

    const path = await configError(edit(5, '    path: 5'));
    expect(at(path, 5, 'sources.warehouse.path')).toBe('expected text, got 5');

    const batch = await configError(edit(9, '    url: http://127.0.0.1:9/hook', '    batch: { size: 0 }'));
    expect(at(batch, 10, 'destinations.hook.batch.size')).toBe('must be at least 1, got 0');

    const mapping = await configError(edit(22, '      price: 12'));
    expect(at(mapping, 22, 'syncs.prices_to_hook.mapping.price')).toMatch(/^expected a destination field \(column: field\), \{ static: value \} or \{ template: .* got 12$/);

    const type = await configError(edit(4, '    type: duckbd'));
    expect(at(type, 4, 'sources.warehouse.type')).toMatch(/^unknown source type "duckbd": known types are duckdb/);
  });

  it('a required setting left out, at the line of the entry that lacks it', async () => {
    const error = await configError(edit(14));
    expect(at(error, 11, 'models.prices.primaryKey')).toBe('is required');
  });

  it('a model with both sql and table, or neither', async () => {
    const both = await configError(edit(14, '    primaryKey: sku', '    table: prices'));
    expect(at(both, 15, 'models.prices.table')).toBe('set exactly one of sql, table or dbt');
    const neither = await configError(edit(13));
    expect(at(neither, 11, 'models.prices')).toBe('set exactly one of sql, table or dbt');
  });

  it('a missing environment variable', async () => {
    const error = await configError(edit(9, '    url: http://127.0.0.1:9/${HOOK_PATH}'));
    expect(at(error, 9, 'destinations.hook.url')).toMatch(/^environment variable HOOK_PATH is not set/);
  });

  it('a model on an unknown source', async () => {
    const error = await configError(edit(12, '    source: warehose'));
    expect(at(error, 12, 'models.prices.source')).toBe('unknown source "warehose": defined sources are warehouse');
  });

  it('a sync to an unknown destination or model', async () => {
    const destination = await configError(edit(18, '    destination: hooks'));
    expect(at(destination, 18, 'syncs.prices_to_hook.destination')).toBe('unknown destination "hooks": defined destinations are hook');
    const model = await configError(edit(17, '    model: price'));
    expect(at(model, 17, 'syncs.prices_to_hook.model')).toBe('unknown model "price": defined models are prices');
  });

  it('after naming an unknown sync, and syncs waiting for each other in a circle', async () => {
    const unknown = await configError(edit(24, '    schedule: { every: 5m }', '    after: [nightly]'));
    expect(at(unknown, 25, 'syncs.prices_to_hook.after[0]')).toBe('unknown sync "nightly": defined syncs are prices_to_hook');

    const circle = await configError(edit(24, '    after: other',
      '  other: { model: prices, destination: hook, match: { sku: id }, after: prices_to_hook }'));
    expect(at(circle, 24, 'syncs.prices_to_hook.after')).toMatch(/^syncs wait for each other in a circle \(prices_to_hook -> other -> prices_to_hook\)/);
  });

  it('a bad cron expression', async () => {
    const error = await configError(edit(24, '    schedule: { cron: "61 * * * *" }'));
    expect(at(error, 24, 'syncs.prices_to_hook.schedule.cron')).toMatch(/^expected a cron expression like "\*\/5 \* \* \* \*", got "61 \* \* \* \*" \(.*minute.*\)$/);
  });

  it('a bad duration', async () => {
    const words = await configError(edit(24, '    schedule: { every: 5 minutes }'));
    expect(at(words, 24, 'syncs.prices_to_hook.schedule.every')).toBe('expected a duration like 30s, 5m, 1h, 1d or 1h30m, got "5 minutes"');
    const zero = await configError(edit(24, '    schedule: { every: 0m }'));
    expect(at(zero, 24, 'syncs.prices_to_hook.schedule.every')).toMatch(/^expected a duration/);
    const both = await configError(edit(24, '    schedule: { every: 5m, cron: "* * * * *" }'));
    expect(at(both, 24, 'syncs.prices_to_hook.schedule')).toMatch(/^set exactly one of every/);
  });

  it('mirror on a model read incrementally (cursor)', async () => {
    const text = edit(14, '    primaryKey: sku', '    cursor: updated_at').replace('    mode: upsert', '    mode: mirror');
    const error = await configError(text);
    expect(at(error, 20, 'syncs.prices_to_hook.mode')).toMatch(/^mode mirror cannot read model "prices" incrementally \(cursor: updated_at\)/);
  });

  it('a match left out where the mode needs one, and maxDeletePercent outside mirror', async () => {
    const match = await configError(edit(20));
    expect(at(match, 16, 'syncs.prices_to_hook.match')).toMatch(/^mode upsert needs a match key/);
    const percent = await configError(edit(19, '    mode: upsert', '    maxDeletePercent: 10'));
    expect(at(percent, 20, 'syncs.prices_to_hook.maxDeletePercent')).toBe('maxDeletePercent applies to mode mirror only (this sync\'s mode is upsert)');
  });

  it('a destination field written twice, or a mapping over the match identifier', async () => {
    const twice = await configError(edit(22, '      price: amount', '      list_price: amount'));
    expect(at(twice, 23, 'syncs.prices_to_hook.mapping.list_price')).toBe('destination field "amount" is written twice (by "price" and "list_price"): keep one');
    const identifier = await configError(edit(22, '      price: id'));
    expect(at(identifier, 22, 'syncs.prices_to_hook.mapping.price')).toMatch(/^destination field "id" is the match identifier/);
  });

  it('a template that is not valid Liquid', async () => {
    const filter = await configError(edit(23, '      label: { template: "{{ sku | upcsae }}" }'));
    expect(at(filter, 23, 'syncs.prices_to_hook.mapping.label')).toMatch(/^not a valid Liquid template: undefined filter: upcsae/);
  });

  it('a sync setting of the destination type, checked by that type', async () => {
    const error = await configError(edit(19, '    mode: upsert', '    object: Contact'));
    expect(at(error, 20, 'syncs.prices_to_hook.object')).toMatch(/^unknown key "object"/);
  });

  it('several mistakes at once, each on its own line', async () => {
    const error = await configError(edit(12, '    source: warehose').replace('    destination: hook', '    destination: hooks'));
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/lastmile\.yml:12 models\.prices\.source: unknown source/);
    expect(lines[1]).toMatch(/lastmile\.yml:18 syncs\.prices_to_hook\.destination: unknown destination/);
  });

  it('the same entry defined in two files, naming both', async () => {
    const folder = await writeProject({
      'a.yml': yaml('sources:', '  warehouse: { type: duckdb, path: ":memory:" }'),
      'b.yml': yaml('# a second warehouse', 'sources:', '  warehouse: { type: duckdb, path: other.duckdb }'),
    });
    const error: ConfigError = await loadProject(folder, {}).catch((thrown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.location).toMatchObject({ line: 3, field: 'sources.warehouse' });
    expect(error.message).toMatch(new RegExp(`b\\.yml:3 sources\\.warehouse: sources\\.warehouse is defined twice, here and in .*a\\.yml:2`));

    const states = await writeProject({ 'a.yml': 'state: one\n', 'b.yml': 'state: two\n' });
    await expect(loadProject(states, {})).rejects.toThrow(/b\.yml:1 state: state is defined twice, here and in .*a\.yml:1/);
  });
});

describe('validateColumns: references to columns the model does not have', () => {
  const load = async () => {
    const folder = await writeProject({ 'lastmile.yml': yaml(...BASE) });
    return loadProject(path.join(folder, 'lastmile.yml'), {});
  };

  it('accepts the columns the model has', async () => {
    const project = await load();
    expect(() => validateColumns(project, 'prices_to_hook', ['sku', 'price', 'updated_at'])).not.toThrow();
  });

  it('a match column the model lacks', async () => {
    const project = await load();
    const error = catchError(() => validateColumns(project, 'prices_to_hook', ['SKU', 'price']));
    const [first] = error.message.split('\n');
    expect(first).toMatch(/lastmile\.yml:14 models\.prices\.primaryKey: model "prices" has no column "sku": did you mean "SKU"\?/);
    expect(error.message).toMatch(/lastmile\.yml:20 syncs\.prices_to_hook\.match\.sku: model "prices" has no column "sku"/);
  });

  it('a renamed column and a template input the model lacks', async () => {
    const project = await load();
    const error = catchError(() => validateColumns(project, 'prices_to_hook', ['id', 'sku']));
    expect(error.location).toMatchObject({ line: 22, field: 'syncs.prices_to_hook.mapping.price' });
    expect(error.message).toMatch(/^.*lastmile\.yml:22 syncs\.prices_to_hook\.mapping\.price: model "prices" has no column "price": its columns are id, sku$/m);

    const noSku = catchError(() => validateColumns(project, 'prices_to_hook', ['price']));
    expect(noSku.message).toMatch(/lastmile\.yml:23 syncs\.prices_to_hook\.mapping\.label: the template uses \{\{ sku \}\}, but model "prices" has no column "sku"/);
  });
});

function catchError(run: () => void): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
