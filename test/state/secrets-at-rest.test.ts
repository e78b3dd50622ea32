import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseSql } from '../helpers/temp-project.ts';
import { runCli } from '../helpers/run-cli.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const up = await needService('postgres');
const TOKEN = `lmtok-${randomBytes(12).toString('hex')}`;
const API_KEY = `lmkey-${randomBytes(12).toString('hex')}`;
/** Pieces of a secret count as a leak too: a message cut at 120 characters may keep half of one. */
const FRAGMENTS = [TOKEN, API_KEY, TOKEN.slice(0, 14), TOKEN.slice(-14), API_KEY.slice(0, 14), API_KEY.slice(-14)];

/**
 * A careless endpoint: every error answer repeats the request's credentials. The first bulk
 * request gets a 503 (a retry, a trace line), a batch holding row 3 a 400 whose message puts
 * the token right where the trace cuts messages, and /denied a 401 that ends the run.
 */
function startEchoingEndpoint() {
  let bulkRequests = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const credentials = `Authorization: ${req.headers.authorization}, X-Api-Key: ${String(req.headers['x-api-key'])}`;
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method === 'HEAD') return void res.writeHead(200).end();
      if (req.url === '/denied') return void json(401, { error: `not allowed with ${credentials}` });
      if (bulkRequests++ === 0) return void res.writeHead(503, { 'content-type': 'text/plain' }).end(`upstream down; your request had ${credentials}`);
      const records = JSON.parse(body) as { key: string }[];
      if (records.some((r) => r.key === '3')) {
        return void json(400, { message: `record 3: the price must be positive; ${'x'.repeat(31)} request ${credentials}` });
      }
      json(200, { received: records.length });
    });
  });
  return {
    /** The next bulk request gets the 503 again. */
    reset: () => void (bulkRequests = 0),
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function projectYaml(state: string, url: string): string {
  return `version: 1
state: "${state}"
sources:
  warehouse: { type: duckdb, path: ./warehouse.duckdb }
destinations:
  engine:
    type: http
    url: ${url}/bulk
    headers: { Authorization: "Bearer \${ECHO_TOKEN}", X-Api-Key: ${API_KEY} }
    batch: { size: 10 }
  locked:
    type: http
    url: ${url}/denied
    headers: { Authorization: "Bearer \${ECHO_TOKEN}" }
models:
  items: { source: warehouse, table: items, primaryKey: id }
syncs:
  items_sync: { model: items, destination: engine, mode: upsert, match: { id: id }, mapping: { price: price } }
  locked_sync: { model: items, destination: locked, mode: upsert, match: { id: id }, mapping: { price: price } }
`;
}

/** Every file under `dir`, its bytes as latin1 text (so a secret in any encoding-free byte run is found). */
async function filesUnder(dir: string): Promise<{ file: string; text: string }[]> {
  const out: { file: string; text: string }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file, text: (await readFile(file)).toString('latin1') });
  }
  return out;
}

function leaks(text: string): string[] {
  return FRAGMENTS.filter((fragment) => text.includes(fragment));
}

describe.skipIf(!up)('secrets echoed by a destination never reach the state store', () => {
  let endpoint: ReturnType<typeof startEchoingEndpoint>;
  let url: string;
  let dir: string;
  const env = { ECHO_TOKEN: TOKEN };

  beforeAll(async () => {
    endpoint = startEchoingEndpoint();
    url = await endpoint.listen();
    dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-secrets-'));
    await warehouseSql(path.join(dir, 'warehouse.duckdb'), 'CREATE TABLE items AS SELECT i AS id, i * 1.5 AS price FROM range(1, 7) t(i)');
  });
  afterAll(async () => {
    await endpoint.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Both syncs through the CLI: a partial run (retry, split, a rejected row) and a failed one. */
  async function runBoth(): Promise<string[]> {
    endpoint.reset();
    const partial = await runCli(['sync', 'items_sync', '--json'], dir, env);
    expect(partial.json, partial.stderr).toMatchObject({ status: 'partial', delivered: 5, rejected: 1, retries: 1 });
    const failed = await runCli(['sync', 'locked_sync', '--json'], dir, env);
    expect(failed.json, failed.stderr).toMatchObject({ status: 'failed' });
    expect(failed.json!.error).toMatch(/401 Unauthorized: not allowed with Authorization: \*\*\*/);
    const shown = await runCli(['runs', 'show', String(partial.json!.runId), '--json'], dir, env);
    const run = JSON.parse(shown.stdout) as { trace: { text: string }[]; rejected: { rows: { key: string; message: string }[] } };
    // The messages stay useful: only the secrets are gone.
    expect(run.rejected.rows).toEqual([expect.objectContaining({ key: '3', message: expect.stringMatching(/^record 3: the price must be positive; .*Authorization: \*\*\*, X-Api-Key: \*\*\*$/) })]);
    expect(run.trace.map((l) => l.text).join('\n')).toMatch(/503 Service Unavailable, retry in/);
    return [partial.stdout, partial.stderr, failed.stdout, failed.stderr, shown.stdout];
  }

  it('embedded store: no file under .lastmile holds a secret or a piece of one (SQLite, WAL, journal, Parquet)', async () => {
    await writeFile(path.join(dir, 'lastmile.yml'), projectYaml('.lastmile', url));
    const outputs = await runBoth();
    for (const text of outputs) expect(leaks(text)).toEqual([]);
    const files = await filesUnder(path.join(dir, '.lastmile'));
    expect(files.map((f) => path.basename(f.file))).toEqual(expect.arrayContaining(['lastmile.db']));
    for (const { file, text } of files) expect(leaks(text), file).toEqual([]);
  }, 240_000);

  it('Postgres store: no table of its schema holds a secret or a piece of one', async () => {
    const schema = `lm_secrets_${randomBytes(4).toString('hex')}`;
    const base = SERVICES.postgres.url;
    await writeFile(path.join(dir, 'lastmile.yml'), projectYaml(`${base}${base.includes('?') ? '&' : '?'}schema=${schema}`, url));
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    try {
      const outputs = await runBoth();
      for (const text of outputs) expect(leaks(text)).toEqual([]);
      const { rows: tables } = await admin.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
      expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['runs', 'trace', 'rejected']));
      for (const { table_name } of tables) {
        const { rows } = await admin.query<{ row: string }>(`SELECT t::text AS row FROM "${schema}"."${table_name}" t`);
        expect(leaks(rows.map((r) => r.row).join('\n')), table_name).toEqual([]);
      }
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  }, 240_000);
});
