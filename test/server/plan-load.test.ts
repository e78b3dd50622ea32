import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeProject } from '../config/config-files.ts';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/lastmile.js');
const READ_TOKEN = 'lm_read_plan_load_0123456789';
const SYNCS = 12;
const REQUESTS = 48;
const ROWS = 400_000;

/** Peak resident memory of a process so far (Linux VmHWM), in MB. */
async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** `lastmile serve` in a child process on a free port; resolves once it listens. */
async function startServer(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--config', 'lastmile.yml'], {
    cwd: dir, env: { ...process.env, LASTMILE_API_TOKEN: 'lm_admin_plan_load_0123456789' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    // The start-up line of the server's JSON log says where it listens.
    child.stdout!.on('data', (d) => {
      stdout += d;
      const found = /"url":"(http:\/\/[^"]+)".*lastmile serving/.exec(stdout);
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`lastmile serve exited ${code}: ${stderr}`)));
  });
  return { url, child };
}

/**
 * Twelve syncs whose plans each read and diff 400,000 rows, so that 48 requests sent at once
 * (four per sync) overlap: what the server does with them is what a flood of plans gets.
 */
describe(`${REQUESTS} plan requests at once with a read token`, () => {
  let server: { url: string; child: ChildProcess };

  beforeAll(async () => {
    const models = Array.from({ length: SYNCS }, (_, i) =>
      `  m${i}: { source: warehouse, sql: "SELECT i AS id, md5(i::VARCHAR || '${i}') AS v FROM range(${ROWS}) t(i)", primaryKey: id }`);
    const syncs = Array.from({ length: SYNCS }, (_, i) =>
      `  s${i}: { model: m${i}, destination: hook, mode: upsert, match: { id: id }, mapping: { v: v } }`);
    const dir = await writeProject({ 'lastmile.yml': [
      'version: 1', 'state: .lastmile',
      'sources:', '  warehouse: { type: duckdb, path: ":memory:" }',
      'destinations:', '  hook: { type: http, url: "http://127.0.0.1:9/hook" }',
      'models:', ...models, 'syncs:', ...syncs,
      'tokens:', `  - { token: ${READ_TOKEN}, role: read }`, '',
    ].join('\n') });
    server = await startServer(dir);
  }, 120_000);
  afterAll(() => {
    server?.child.kill('SIGTERM');
  });

  it('computes a few at a time, shares identical ones, answers the rest 429 with Retry-After', async () => {
    const before = await peakRssMb(server.child.pid!);
    const answers = await Promise.all(Array.from({ length: REQUESTS }, async (_, i) => {
      const response = await fetch(`${server.url}/api/syncs/s${i % SYNCS}/plan`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() as Record<string, unknown> };
    }));
    const peak = await peakRssMb(server.child.pid!);
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    console.log(`plan flood: ${ok.length} answered, ${refused.length} refused with 429; server peak RSS ${Math.round(peak)} MB (${Math.round(before)} MB before the flood), ${os.cpus().length} cores`);

    expect(ok.length + refused.length).toBe(REQUESTS);
    for (const { body } of ok) expect(body).toMatchObject({ fetched: ROWS, added: ROWS, toSync: ROWS });
    expect(refused.length).toBeGreaterThan(0);
    for (const { retryAfter, body } of refused) {
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      expect(body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/plans are being computed/) });
    }

    // The server's own count: never more plans at once than its limit, and it serves again after the flood.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const most = Number(/^lastmile_plans_running_max (\d+)/m.exec(metrics)?.[1]);
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(2);
    const after = await fetch(`${server.url}/api/syncs/s0/plan`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    expect(after.status).toBe(200);
  }, 240_000);
});
