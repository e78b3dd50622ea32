import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadProject } from '../../src/config/load-project.ts';
import { openStateStore } from '../../src/state/open-state-store.ts';
import { runSync, type RunOptions } from '../../src/engine/run-sync.ts';
import { planSync } from '../../src/engine/plan-sync.ts';
import { startDemoReceiver } from '../../src/cli/demo/demo-receiver.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import type { Project } from '../../src/config/project.ts';
import { warehouseSql } from '../helpers/temp-project.ts';
import { FakeHttpServer, type FakeHttpOptions } from '../fakes/http/fake-http-server.ts';

export type SentRecord = { op: string; key: string; method: string; [field: string]: unknown };

export interface ReceivedRequest {
  method: string;
  body: { op: string; key: string; [field: string]: unknown }[];
}

/**
 * A throwaway project: a DuckDB warehouse file, a local HTTP receiver that logs every request,
 * and an embedded state folder. `yaml(receiverUrl)` writes the sources/destinations/models/syncs.
 * With `fake`, the receiver is a FakeHttpServer with those options (refused rows, faults): its
 * `store` is then `records`, and `fake` is returned to inject faults. `state` replaces the
 * embedded state folder (e.g. a postgres:// URL with its own schema).
 */
export async function engineFixture(yaml: (receiverUrl: string) => string, options: { fake?: FakeHttpOptions; state?: string } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-engine-'));
  const requests: ReceivedRequest[] = [];
  const fake = options.fake ? await new FakeHttpServer(options.fake).start() : undefined;
  const receiver = fake ? { url: fake.url, records: fake.store as Map<string, unknown>, close: () => fake.stop() } : await startDemoReceiver({ port: 0, requestsPerSecond: 100_000 });
  const logging = await startLoggingProxy(receiver.url, requests);
  const configPath = path.join(dir, 'lastmile.yml');
  const state = options.state ?? '.lastmile';
  await writeFile(configPath, `version: 1\nstate: ${state}\n${yaml(logging.url)}`);
  const warehouse = path.join(dir, 'warehouse.duckdb');

  const sql = (statements: string) => warehouseSql(warehouse, statements);

  let project: Project | undefined;
  let store: StateStore | undefined;
  const env = async () => {
    project ??= await loadProject(configPath);
    store ??= await openStateStore(project.state);
    return { project, store };
  };
  return {
    dir, configPath, warehouse, requests, records: receiver.records, fake, sql, env,
    /** Rewrites the config (e.g. a new mapping) and reloads it. */
    async rewrite(next: (receiverUrl: string) => string) {
      await writeFile(configPath, `version: 1\nstate: ${state}\n${next(logging.url)}`);
      project = await loadProject(configPath);
    },
    run: async (sync: string, options: Partial<RunOptions> = {}) => runSync(await env(), sync, { trigger: 'cli', ...options }),
    plan: async (sync: string) => planSync(await env(), sync),
    /** Every record sent since the last call, flattened. */
    takeSent(): SentRecord[] {
      const sent = requests.flatMap((r) => r.body.map((item): SentRecord => ({ ...item, method: r.method })));
      requests.length = 0;
      return sent;
    },
    async close() {
      await store?.close();
      await logging.close();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Forwards to the receiver, keeping a log of what was asked. */
async function startLoggingProxy(target: string, log: ReceivedRequest[]) {
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const parsed = raw ? JSON.parse(raw) : [];
      log.push({ method: req.method ?? 'POST', body: Array.isArray(parsed) ? parsed : [parsed] });
      const answer = await fetch(target + (req.url ?? '/'), { method: req.method, body: raw || undefined, headers: { 'content-type': 'application/json' } });
      const retryAfter = answer.headers.get('retry-after');
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
      res.end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
