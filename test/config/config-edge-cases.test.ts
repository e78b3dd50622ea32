import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.ts';
import { configError, loadYaml, writeProject, yaml } from './config-files.ts';

/** A valid project; each test breaks one line of it or adds some. Line numbers are the file's. */
const BASE = [
  /* 1 */ 'version: 1',
  /* 2 */ 'state: .lastmile',
  /* 3 */ 'sources:',
  /* 4 */ '  warehouse: { type: duckdb, path: ":memory:" }',
  /* 5 */ 'destinations:',
  /* 6 */ '  hook: { type: http, url: "http://127.0.0.1:9/hook" }',
  /* 7 */ 'models:',
  /* 8 */ '  items: { source: warehouse, sql: "SELECT 1 AS id", primaryKey: id }',
  /* 9 */ 'syncs:',
  /* 10 */ '  items_sync:',
  /* 11 */ '    model: items',
  /* 12 */ '    destination: hook',
  /* 13 */ '    mode: upsert',
  /* 14 */ '    match: { id: id }',
];

function edit(n: number, ...lines: string[]): string {
  return yaml(...BASE.slice(0, n - 1), ...lines, ...BASE.slice(n));
}

/** The message of the ConfigError `text` gives, after checking it names `lastmile.yml:<line> <field>`. */
async function located(text: string, line: number, field: string): Promise<string> {
  const error = await configError(text);
  expect(error.location).toMatchObject({ line, field });
  const prefix = `${error.location.file}:${line} ${field}: `;
  expect(error.message.startsWith(prefix), error.message).toBe(true);
  return error.message.slice(prefix.length);
}

/**
 * `lastmile ARGS` on a project made of `text`, in a child process (a hang is killed after
 * 30 s): it must exit 64 with `lastmile.yml:<line> <field>: ` before its message.
 */
async function usageError(text: string, line: number, field: string, args = ['check']): Promise<string> {
  const dir = await writeProject({ 'lastmile.yml': text });
  const result = await runCli([...args, '--config', 'lastmile.yml'], dir, {}, 30_000);
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: 64 });
  const prefix = `lastmile: lastmile.yml:${line} ${field}: `;
  expect(result.stderr.startsWith(prefix), result.stderr).toBe(true);
  return result.stderr.slice(prefix.length).trim();
}

describe('config edge cases exit 64 with file, line and field', { timeout: 120_000 }, () => {
  it('a YAML alias bomb ("billion laughs") is refused where it expands', async () => {
    const levels = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f']]) {
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const bomb = edit(14, '    match: { id: id }', ...levels.map((l) => `    x-${l}`));
    expect(await located(bomb, 20, 'syncs.items_sync.x-f[0]')).toMatch(/^aliases expand this file past 100,000 values/);
    // Through the CLI: a usage error (64), not a crash (1).
    expect(await usageError(bomb, 20, 'syncs.items_sync.x-f[0]')).toMatch(/^aliases expand this file past 100,000 values/);
  });

  it('many uses of one small anchor are fine', async () => {
    const project = await loadYaml(yaml(
      ...BASE.slice(0, 4),
      'destinations:',
      '  hook: { type: http, url: "http://127.0.0.1:9/hook", headers: &h { X-Team: pricing } }',
      ...Array.from({ length: 150 }, (_, i) => `  hook${i}: { type: http, url: "http://127.0.0.1:9/hook", headers: *h }`),
      ...BASE.slice(6),
    ));
    expect(project.destinations.hook149).toMatchObject({ headers: { 'X-Team': 'pricing' } });
  });

  it('an alias to an anchor that does not exist', async () => {
    expect(await located(edit(13, '    mode: *upsert_mode'), 13, 'syncs.items_sync.mode'))
      .toBe('*upsert_mode names no anchor: define &upsert_mode on a value before this alias, or write the value out');
  });

  it('nesting deeper than any config needs, in flow or block style', async () => {
    const flow = await located(edit(14, `    match: { id: ${'['.repeat(5000)}${']'.repeat(5000)} }`), 14, 'syncs.items_sync.match.id[0][0]…');
    expect(flow).toMatch(/^nests more than 50 levels deep/);
    const block = Array.from({ length: 3000 }, (_, i) => `${'  '.repeat(i + 4)}k:`);
    expect(await located(edit(14, '    match:', '      id:', ...block), 63, 'syncs.items_sync.match.id.k.k…')).toMatch(/^nests more than 50 levels deep/);
  });

  it('a state folder that cannot be created (state: /proc/x) fails at once', async () => {
    const message = await usageError(edit(2, 'state: /proc/lastmile-state'), 2, 'state', ['sync', 'items_sync']);
    expect(message).toMatch(/^cannot create the state folder \/proc\/lastmile-state/);
  });

  it('database URLs that do not parse say what is wrong, never showing the password', async () => {
    const source = await located(edit(4, '  warehouse: { type: postgres, url: "postgres://lastmile:hunter22@db.example.com:54x32/app" }'), 4, 'sources.warehouse.url');
    expect(source).toMatch(/^not a valid URL: expected postgres:\/\/user:password@host:5432\/database/);
    expect(source).not.toContain('hunter22');
    const mysql = await located(edit(4, '  warehouse: { type: mysql, url: "mysql://root@[db/shop" }'), 4, 'sources.warehouse.url');
    expect(mysql).toMatch(/^not a valid URL: expected mysql:\/\/user:password@host:3306\/database/);
    const destination = await located(edit(6, '  hook: { type: postgres, url: "postgres://u:pw-secret@h:port/db" }'), 6, 'destinations.hook.url');
    expect(destination).not.toContain('pw-secret');
    const state = await located(edit(2, 'state: "postgres://lastmile:st8te@db:5432:5433/lastmile"'), 2, 'state');
    expect(state).toMatch(/^not a valid URL: expected postgres:\/\/user:password@host:5432\/database/);
    expect(state).not.toContain('st8te');
  });

  it('requestsPerSecond: 0 must be greater than 0', async () => {
    expect(await located(edit(6, '  hook: { type: http, url: "http://127.0.0.1:9/hook", rateLimit: { requestsPerSecond: 0 } }'), 6, 'destinations.hook.rateLimit.requestsPerSecond'))
      .toBe('must be greater than 0, got 0');
  });
});
