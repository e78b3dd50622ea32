import os from 'node:os';
import path from 'node:path';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/config/load-project.ts';
import { openStateStore } from '../../src/state/open-state-store.ts';
import { runSync } from '../../src/engine/run-sync.ts';
import { planSync } from '../../src/engine/plan-sync.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import { FakeHttpServer } from '../fakes/http/fake-http-server.ts';
import { stateOf } from '../conformance/state-store-helpers.ts';
import { expectAccounted } from './accounting.ts';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/legacy-release');

/** The project of test/fixtures/legacy-release, its state folder where a project keeps it, pointed at `url`. */
async function legacyProject(url: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-upgrade-'));
  await cp(path.join(FIXTURE, 'data'), path.join(dir, 'data'), { recursive: true });
  await cp(path.join(FIXTURE, 'state'), path.join(dir, '.lastmile'), { recursive: true });
  // The syncs, match and mapping of the fixture's own lastmile.yml: they decide every fingerprint.
  await writeFile(path.join(dir, 'lastmile.yml'), `version: 1
state: .lastmile
sources:
  files: { type: files, path: ./data }
destinations:
  engine:
    type: http
    url: "${url}/bulk"
    batch: { size: 50 }
    results: { path: results, keyField: key, errorField: error }
models:
  prices:
    source: files
    sql: SELECT sku, CAST(price AS DECIMAL(10,2)) AS price, currency FROM read_csv('prices.csv')
    primaryKey: sku
  lots:
    source: files
    sql: SELECT CAST(lot AS DECIMAL(6,2)) AS lot, CAST(qty AS INTEGER) AS qty FROM read_csv('lots.csv')
    primaryKey: lot
syncs:
  prices_sync: { model: prices, destination: engine, mode: mirror, match: { sku: id }, mapping: { price: amount, currency: currency } }
  lots_sync: { model: lots, destination: engine, mode: upsert, match: { lot: id }, mapping: { qty: qty } }
`);
  return dir;
}

let dir: string | undefined;
let store: StateStore | undefined;
let fake: FakeHttpServer | undefined;
afterEach(async () => {
  await store?.close();
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('upgrading a state written by the release before fingerprint recipe v1', () => {
  it('sends only what changed since, moves the state to v1 (re-keying decimals), and keeps the history', async () => {
    fake = await new FakeHttpServer({
      rejectMode: 'record',
      rejectWhen: (r) => (Number(r.amount) < 0 ? { code: 'NEGATIVE', message: 'amount must not be negative' } : undefined),
    }).start();
    dir = await legacyProject(fake.url);
    const project = await loadProject(path.join(dir, 'lastmile.yml'));
    store = await openStateStore(project.state);
    expect(await store.fingerprintRecipe('prices_sync')).toBe('duckdb-hash');
    const historyBefore = await store.listRuns({ sync: 'prices_sync' });
    expect(historyBefore).toHaveLength(2);

    // plan sees the same answer, and writes nothing.
    const plan = await planSync({ project, store }, 'prices_sync');
    expect(plan).toMatchObject({ fetched: 299, added: 0, changed: 1, removed: 1, unchanged: 298 });
    expect(await store.fingerprintRecipe('prices_sync')).toBe('duckdb-hash');

    const run = expectAccounted(await runSync({ project, store }, 'prices_sync', { trigger: 'cli' }), {
      status: 'success', fetched: 299, added: 0, changed: 1, removed: 1, unchanged: 298, delivered: 2,
    });
    const sent = () => fake!.log.filter((r) => r.body).flatMap((r) => JSON.parse(r.body) as { key: string; op: string }[]);
    expect(sent().map((r) => `${r.op} ${r.key}`).sort())
      .toEqual(['delete SKU-0009', 'upsert SKU-0005']);
    expect(await store.fingerprintRecipe('prices_sync')).toBe('v1');
    // SKU-0017, refused for good by the old release, stays parked: not sent again.
    const parked = (await stateOf(store, 'prices_sync')).find((r) => r.key === 'SKU-0017');
    expect(parked).toMatchObject({ status: 'rejected' });
    expect(run.unchanged).toBe(298);

    fake.log.length = 0;
    expectAccounted(await runSync({ project, store }, 'prices_sync', { trigger: 'cli' }), { status: 'success', unchanged: 299 });
    expect(sent()).toEqual([]);

    // DECIMAL keys: the old release wrote '0.50', recipe v1 writes '0.5'; nothing is re-sent.
    expectAccounted(await runSync({ project, store }, 'lots_sync', { trigger: 'cli' }), { status: 'success', fetched: 40, unchanged: 40 });
    expect(sent()).toEqual([]);
    const keys = (await stateOf(store, 'lots_sync')).map((r) => r.key);
    expect(keys).toContain('0.5');
    expect(keys).not.toContain('0.50');
    expect(keys).toHaveLength(40);

    const history = await store.listRuns({ sync: 'prices_sync' });
    expect(history.slice(2).map((r) => r.runId)).toEqual(historyBefore.map((r) => r.runId));
  });
});
