import os from 'node:os';
import path from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCountingReceiver } from '../helpers/counting-receiver.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { name, version } = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string };

interface Result { code: number | null; stdout: string; stderr: string }

/** A command as a shell would run it; killed (code null) past `timeoutMs`. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Result> {
  // npm passes its own settings down as npm_config_*; a user's shell has none of the test run's.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/**
 * What a new user does: install the packed package into an empty folder and use the
 * `lastmile` it puts on the path. The tarball is built by `npm pack` (its prepack compiles
 * to dist/ and builds the web UI), installed from the local npm cache where it can be.
 */
describe('the package, packed and installed into an empty folder', { timeout: 1_800_000 }, () => {
  const receiver = startCountingReceiver();
  let folder = '';
  let installed: Result;
  const lastmile = (args: string[], cwd = path.join(folder, 'shop')) => run(path.join(folder, 'node_modules', '.bin', 'lastmile'), args, cwd, 180_000);

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'lastmile-installed-'));
    const packed = await run('npm', ['pack', '--pack-destination', folder], repo, 600_000);
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = readdirSync(folder).find((file) => file.endsWith('.tgz'))!;
    expect(tarball).toBe(`${name}-${version}.tgz`);
    installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], folder, 1_200_000);
    expect(installed.code, installed.stderr).toBe(0);
  }, 1_800_000);

  afterAll(async () => {
    await receiver.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('ships compiled JavaScript and the built web UI, and says its version', async () => {
    // npm applies no `overrides` of a dependency: the versions pinned in package.json keep every package Node 20's.
    expect(installed.stdout + installed.stderr).not.toContain('EBADENGINE');
    const pkg = path.join(folder, 'node_modules', name);
    expect(existsSync(path.join(pkg, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(path.join(pkg, 'dist', 'ui', 'index.html'))).toBe(true);
    const version = await lastmile(['--version'], folder);
    expect(version).toMatchObject({ code: 0, stdout: `${JSON.parse(await readFile(path.join(pkg, 'package.json'), 'utf8')).version}\n` });
    const help = await lastmile(['--help'], folder);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: lastmile');
  });

  it('runs init, check, plan and sync there', async () => {
    const init = await lastmile(['init', 'shop'], folder);
    expect(init.code, init.stderr).toBe(0);
    // The hints name a command that works here: npx finds this install (a bare `npx lastmile` elsewhere would fetch another package).
    expect(init.stderr).toContain('  cd shop\n');
    expect(init.stderr).toContain('  npx lastmile check');
    // The editor's schema is the installed package's own.
    const config = await readFile(path.join(folder, 'shop', 'lastmile.yml'), 'utf8');
    const schema = /\$schema=(\S+)/.exec(config)![1];
    expect(schema).toBe(`../node_modules/${name}/schema/lastmile.schema.json`);
    expect(existsSync(path.resolve(folder, 'shop', schema))).toBe(true);

    // Point the project at a receiver of this test's own (the demo's port may be taken).
    const url = await receiver.listen();
    await writeFile(path.join(folder, 'shop', 'lastmile.yml'), config.replace(/http:\/\/127\.0\.0\.1:8787/, url));

    const check = await lastmile(['check']);
    expect(check, check.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(check.stdout).toContain('ok   model competitor_prices: sku varchar');

    const plan = await lastmile(['plan', 'prices_to_engine']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(receiver.records).toBe(0);

    const sync = await lastmile(['sync', 'prices_to_engine', '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    expect(receiver.records).toBe(50_000);
    const summary = JSON.parse(sync.stdout.trim().split('\n').at(-1)!) as { status: string };
    expect(summary.status).toBe('success');
  });
});
