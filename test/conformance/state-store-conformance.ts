import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { RunError } from '../../src/errors.ts';
import type { Value } from '../../src/sources/source.ts';
import type { RowStateUpdate, StateStore } from '../../src/state/state-store.ts';
import { openStateStore, type OpenStateOptions } from '../../src/state/open-state-store.ts';
import type { RejectedRow } from '../../src/state/run-record.ts';
import { REJECT_CATEGORIES } from '../../src/destinations/destination.ts';
import { byKey, diff, expected, killed, lockHolder, readState, record, row, scanInto, stateOf } from './state-store-helpers.ts';
import { rowStateSql } from '../../src/state/row-state-sql.ts';

/** One state store under test: every open() sees the same state; `spec` opens it from another process. */
export interface StoreFixture {
  open(options?: OpenStateOptions): Promise<StateStore>;
  /** The `state:` value a child process hands to openStateStore() to reach the same state. */
  spec: string;
}

const BIG_FP = '18446744073709551615'; // 2^64 - 1
const HIGH_FP = '9223372036854775808'; // 2^63

/** Keys a careless store would mangle: numbers, NULL look-alikes, CSV/JSON specials, unicode. */
const TRICKY_KEYS = ['007', '7', '1e3', '-0', 'NULL', '\\N', '', ' spaced ', 'a,b', 'quo"te', "it's", 'new\nline', 'tab\tx', 'ü日本🙂', '[1,2]'];

export function stateStoreConformance(name: string, setup: () => Promise<StoreFixture>, teardown?: () => Promise<void>): void {
  describe(`state store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let duck: DuckDBInstance;
    const opened: StateStore[] = [];
    const open = async (options?: OpenStateOptions) => {
      const store = await fixture.open(options);
      opened.push(store);
      return store;
    };
    const workspace = () => duck.connect();
    const sync = () => `sync-${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      fixture = await setup();
      duck = await DuckDBInstance.create(':memory:');
    });
    afterAll(async () => {
      for (const store of opened) await store.close().catch(() => undefined);
      duck?.closeSync();
      await teardown?.();
    });

    it('gives an unknown sync no rows, and files DuckDB reads as an empty relation with the contract columns', async () => {
      const store = await open();
      const s = sync();
      expect(await stateOf(store, s)).toEqual([]);
      const ws = await workspace();
      await scanInto(store, s, ws, 'prev');
      const columns = (await ws.runAndReadAll('DESCRIBE SELECT * FROM prev')).getRowObjectsJson()
        .map((c) => `${String(c.column_name)} ${String(c.column_type)}`).join(', ');
      expect(columns).toBe('key VARCHAR, fp UBIGINT, status VARCHAR, dest_id VARCHAR, match VARCHAR, local_fp UBIGINT');
      expect(await readState(ws, 'prev')).toEqual([]);
    });

    it('is what openStateStore() opens for its state: setting', async () => {
      const s = sync();
      const store = await open();
      await store.commitRows(s, [row('a', '1')]);
      await store.setCursor(s, 'high-water');
      const fromSpec = await openStateStore(fixture.spec);
      opened.push(fromSpec);
      expect(fromSpec.kind).toBe(store.kind);
      expect(await fromSpec.getCursor(s)).toBe('high-water');
      expect(await stateOf(fromSpec, s)).toEqual(expected([row('a', '1')]));
    });

    it('reads committed rows back exactly, in chunks and through DuckDB, after reopening', async () => {
      const s = sync();
      const writer = await open();
      const updates: RowStateUpdate[] = TRICKY_KEYS.map((key, i) => ({
        key, fp: [BIG_FP, HIGH_FP, '0', '1', String(i)][i % 5], status: (['rejected', 'delivered', 'outdated'] as const)[i % 3],
        destId: i % 2 ? `dest-${i}` : null, match: i % 4 === 0 ? null : { email: `${key}@example.com`, n: i },
        localFp: i % 3 === 1 ? null : [HIGH_FP, '7', BIG_FP][i % 3],
      }));
      await writer.commitRows(s, updates.slice(0, 7));
      await writer.commitRows(s, updates.slice(7));
      await writer.close();

      const reader = await open();
      expect(await stateOf(reader, s)).toEqual(expected(updates));
      const ws = await workspace();
      await scanInto(reader, s, ws, 'prev');
      expect(await readState(ws, 'prev')).toEqual(expected(updates));
      const fpType = await ws.runAndReadAll(`SELECT DISTINCT typeof(fp) AS t FROM prev`);
      expect(fpType.getRowObjectsJson()).toEqual([{ t: 'UBIGINT' }]);
    });

    it('gives two readers of one sync at once every row each (a run, the metrics and the API read together)', async () => {
      const s = sync();
      const store = await open();
      const updates: RowStateUpdate[] = Array.from({ length: 5_000 }, (_, i) => row(`k${i}`, String(i)));
      await store.commitRows(s, updates);
      const count = async () => {
        let n = 0;
        for await (const chunk of store.readRowState(s, { chunkSize: 100 })) {
          n += chunk.length;
          await new Promise((r) => setImmediate(r)); // a reader that does work between chunks
        }
        return n;
      };
      expect(await Promise.all([count(), count(), count()])).toEqual([5_000, 5_000, 5_000]);
    });

    it('refuses an update it could not read back exactly, and writes nothing of that batch', async () => {
      const s = sync();
      const store = await open();
      await expect(store.commitRows(s, [row('a', '1'), row('b', 'abc')])).rejects.toThrow(/"b".*not an unsigned 64-bit/);
      await expect(store.commitRows(s, [row('a', '18446744073709551616')])).rejects.toThrow(TypeError);
      await expect(store.commitRows(s, [row('bad\uD800', '1')])).rejects.toThrow(/well-formed/);
      await expect(store.commitRows(s, [{ ...row('a', '1'), status: 'parked' as never }])).rejects.toThrow(/status must be one of/);
      await expect(store.commitRows(s, [{ ...row('a', '1'), localFp: '-3' }])).rejects.toThrow(/local fingerprint "-3"/);
      await store.commitRows(s, [row('c', '3')]);
      expect(await stateOf(store, s)).toEqual(expected([row('c', '3')]));
    });

    it('keeps a bigint identifier exact in the match JSON', async () => {
      const s = sync();
      const store = await open();
      await store.commitRows(s, [{ key: 'k', fp: '5', status: 'delivered', match: { id: 12345678901234567890n, sku: 'A-1' } }]);
      const ws = await workspace();
      await scanInto(store, s, ws, 'prev');
      const row = (await ws.runAndReadAll(`SELECT match::JSON->>'$.id' AS id, match::JSON->>'$.sku' AS sku FROM prev`)).getRowObjectsJson();
      expect(row).toEqual([{ id: '12345678901234567890', sku: 'A-1' }]);
    });

    it('lets a later commit win and removes deleted keys', async () => {
      const s = sync();
      const store = await open();
      await store.commitRows(s, [row('a', '1'), row('b', '2'), row('c', '3')]);
      // Same key twice in one batch, then again in a later batch; a delete; a re-add after a delete.
      await store.commitRows(s, [row('a', '10'), row('a', '11', 'dest-a'), { key: 'b', deleted: true }, row('d', '4')]);
      await store.commitRows(s, [row('c', '30'), { key: 'd', deleted: true }, row('d', '40'), { key: 'zz', deleted: true }]);
      const want = expected([row('a', '11', 'dest-a'), row('c', '30'), row('d', '40')]);
      expect(await stateOf(store, s)).toEqual(want);
      const ws = await workspace();
      await scanInto(await open(), s, ws, 'prev');
      expect(await readState(ws, 'prev')).toEqual(want);
    });

    it('gives files that hold the state as of the call, and compacting keeps every commit', async () => {
      const s = sync();
      const store = await open();
      await store.commitRows(s, [row('a', '1'), row('b', '2')]);
      const files = await store.rowStateFiles(s);
      const ws = await workspace();
      try {
        await store.commitRows(s, [row('a', '10'), { key: 'b', deleted: true }, row('c', '3')]);
        await store.compactRowState(s);
        // A reader that took the files before still scans the state as it was then.
        await ws.run(`CREATE TEMP TABLE before_commits AS ${rowStateSql(files)}`);
        expect(await readState(ws, 'before_commits')).toEqual(expected([row('a', '1'), row('b', '2')]));
      } finally {
        await files.release();
      }
      const want = expected([row('a', '10'), row('c', '3')]);
      expect(await stateOf(store, s)).toEqual(want);
      expect(await stateOf(await open(), s)).toEqual(want);
    });

    it('says which fingerprint recipe a state follows: none before it exists, v1 from its first commit on', async () => {
      const s = sync();
      const store = await open();
      expect(await store.fingerprintRecipe(s)).toBeNull();
      await store.commitRows(s, [row('a', '1')]);
      expect(await store.fingerprintRecipe(s)).toBe('v1');
      await store.compactRowState(s);
      await store.commitRows(s, [row('b', '2')]);
      expect(await (await open()).fingerprintRecipe(s)).toBe('v1');
      await store.replaceRowState(s, [row('c', '3')]);
      expect(await store.fingerprintRecipe(s)).toBe('v1');
    });

    it('commits many concurrent batches without losing or reordering one', async () => {
      const s = sync();
      const store = await open();
      await Promise.all(Array.from({ length: 40 }, (_, b) =>
        store.commitRows(s, [...Array.from({ length: 25 }, (_, i) => row(`k${b}-${i}`, String(b))), row('hot', String(b))])));
      const state = await stateOf(store, s);
      expect(state).toHaveLength(40 * 25 + 1);
      expect(state.find((r) => r.key === 'hot')?.fp).toBe('39');
    });

    it('compacts: the same state after, and commits after it still apply', async () => {
      const s = sync();
      const store = await open();
      const first = TRICKY_KEYS.map((key, i) => row(key, i % 2 ? BIG_FP : String(i), i % 2 ? `id-${i}` : null));
      await store.commitRows(s, first);
      await store.commitRows(s, [{ key: '007', deleted: true }, row('7', HIGH_FP)]);
      const before = await stateOf(store, s);
      await store.compactRowState(s);
      expect(await stateOf(store, s)).toEqual(before);

      await store.commitRows(s, [row('after', '99'), { key: '1e3', deleted: true }]);
      const want = [...before.filter((r) => r.key !== '1e3'), ...expected([row('after', '99')])].sort(byKey);
      expect(await stateOf(store, s)).toEqual(want);
      expect(await stateOf(await open(), s)).toEqual(want);
      const ws = await workspace();
      await scanInto(store, s, ws, 'prev');
      expect(await readState(ws, 'prev')).toEqual(want);
    });

    it('replaces the whole state from chunks, and refuses duplicate keys without losing state', async () => {
      const s = sync();
      const store = await open();
      await store.commitRows(s, [row('old', '1')]);
      async function* chunks() {
        yield [{ key: '42', fp: BIG_FP, status: 'delivered' as const, destId: null, match: { id: 1 } }];
        yield [{ key: '7', fp: '0', status: 'rejected' as const, destId: 'd', match: null }];
      }
      await store.replaceRowState(s, chunks());
      const seeded = await stateOf(store, s);
      expect(seeded).toEqual(expected([
        { key: '42', fp: BIG_FP, status: 'delivered', destId: null, match: { id: 1 } },
        { key: '7', fp: '0', status: 'rejected', destId: 'd', match: null },
      ]));
      await expect(store.replaceRowState(s, [row('x', '1'), row('x', '2')])).rejects.toThrow(/appears 2 times/);
      expect(await stateOf(store, s)).toEqual(seeded);
      expect(await stateOf(await open(), s)).toEqual(seeded);
    });

    it('forgets fingerprints: keys, ids and identifiers stay, the diff sees every row changed', async () => {
      const s = sync();
      const store = await open();
      const rows = [{ ...row('a', '1', 'id-a', { email: 'a@x' }), localFp: '11' }, row('b', BIG_FP, null, { email: 'b@x' }), { ...row('c', '3'), status: 'rejected' as const }];
      await store.commitRows(s, rows);
      const ws = await workspace();
      await ws.run(`CREATE TEMP TABLE current_model AS SELECT * FROM (VALUES ('a', 1::UBIGINT), ('b', ${BIG_FP}::UBIGINT), ('c', 3::UBIGINT)) t(key, fp)`);
      await scanInto(store, s, ws, 'prev');
      expect(await diff(ws, 'prev')).toEqual({ changed: 0, unchanged: 3 });

      await store.forgetFingerprints(s);
      await scanInto(await open(), s, ws, 'prev');
      expect(await diff(ws, 'prev')).toEqual({ changed: 3, unchanged: 0 });
      const kept = (await stateOf(store, s)).map(({ fp: _, ...rest }) => rest);
      // The local fingerprint is forgotten too: it must not call the row unchanged either.
      expect(kept).toEqual(expected(rows).map(({ fp: _, ...rest }) => ({ ...rest, local_fp: null })));
    });

    it('round-trips a cursor of every Value kind', async () => {
      const s = sync();
      const store = await open();
      expect(await store.getCursor(s)).toBeNull();
      const values: Value[] = [
        true, false, 0, -1.5, 1e300, Number.NaN, Number.POSITIVE_INFINITY, 2n ** 63n + 5n, -(2n ** 70n),
        '', '2024-03-01T12:00:00.123456Z', 'ü日本🙂 "quoted"', new Uint8Array([0, 1, 254, 255]),
        [1, 'two', null, [3n]], { a: 1, nested: { b: [true] } }, { $bigint: 'not a bigint', $x: new Uint8Array([7]) },
      ];
      const reader = await open();
      for (const value of values) {
        await store.setCursor(s, value);
        expect(await reader.getCursor(s)).toEqual(value);
      }
      await store.setCursor(s, null);
      expect(await store.getCursor(s)).toBeNull();
    });

    it('lets one run hold a sync: refuses a second, names the holder, frees on release', async () => {
      const s = sync();
      const a = await open();
      const b = await open();
      const lock = await a.acquireLock(s, 'run-first');
      const refusal = await b.acquireLock(s, 'run-second').then(() => undefined, (error: unknown) => error);
      expect(refusal).toBeInstanceOf(RunError);
      expect((refusal as Error).message).toContain(`"${s}"`);
      expect((refusal as Error).message).toContain('run-first');
      expect((refusal as Error).message).toContain(`pid ${process.pid}`);
      await expect(a.acquireLock(s, 'run-third')).rejects.toThrow(/run-first/);
      const other = await b.acquireLock(`${s}-other`, 'run-other'); // other syncs are independent
      await lock.release();
      const second = await b.acquireLock(s, 'run-second');
      await expect(a.acquireLock(s, 'run-x')).rejects.toThrow(/run-second/);
      await second.release();
      await other.release();
    });

    it('takes over the lock of a killed process', async () => {
      const s = sync();
      const child = await lockHolder(fixture.spec, s, 'run-killed', 60_000);
      const store = await open();
      await expect(store.acquireLock(s, 'run-mine')).rejects.toThrow(new RegExp(`run-killed.*pid ${child.pid}`));
      await killed(child, 'SIGKILL');
      const lock = await store.acquireLock(s, 'run-mine');
      await lock.release();
    });

    it('marks runs found dead abandoned, keeping what they committed, and leaves a live run alone', async () => {
      const store = await open();
      const [dead, live, takenOver] = [sync(), sync(), sync()];
      // Killed before it could finish: its summary says running, and nobody holds its lock.
      await store.saveRun(record(dead, 'killed', '2025-02-01T10:00:00.000Z', { toSync: 10, delivered: 4, rejected: 1 }));
      const lock = await store.acquireLock(live, `${live}:alive`);
      await store.saveRun(record(live, 'alive', '2025-02-01T10:00:00.000Z'));
      // Killed while holding its lock, which the next run then took over.
      const child = await lockHolder(fixture.spec, takenOver, `${takenOver}:victim`, 60_000);
      await store.saveRun(record(takenOver, 'victim', '2025-02-01T10:00:00.000Z', { toSync: 3 }));
      await killed(child, 'SIGKILL');
      const next = await store.acquireLock(takenOver, `${takenOver}:next`);

      const abandoned = await store.abandonDeadRuns();
      expect(abandoned).toEqual(expect.arrayContaining([`${dead}:killed`, `${takenOver}:victim`]));
      expect(abandoned).not.toContain(`${live}:alive`);
      const killedRun = (await store.getRun(`${dead}:killed`))!.summary;
      expect(killedRun).toMatchObject({ status: 'abandoned', toSync: 10, delivered: 4, rejected: 1, deferred: 5 });
      expect(killedRun.error).toMatch(/^found dead: its process ended without finishing the run; counts are what it had committed/);
      expect((await store.getRun(`${takenOver}:victim`))!.summary.error).toMatch(`run ${takenOver}:next found it dead and took its lock over`);
      expect((await store.listRuns({ sync: live }))[0].status).toBe('running');
      expect(await store.abandonDeadRuns()).not.toContain(`${dead}:killed`);
      await lock.release();
      await next.release();
    });

    it('takes over the lock of a hung process once its heartbeat is too old', async () => {
      const s = sync();
      const timing = { heartbeatMs: 100, staleAfterMs: 1_000 };
      const child = await lockHolder(fixture.spec, s, 'run-hung', timing.heartbeatMs);
      const store = await open({ lock: timing });
      try {
        await expect(store.acquireLock(s, 'run-mine')).rejects.toThrow(/run-hung/);
        child.kill('SIGSTOP'); // alive, but its heartbeat stops
        let lock;
        for (let attempt = 0; !lock && attempt < 100; attempt++) {
          lock = await store.acquireLock(s, 'run-mine').catch(() => undefined);
          if (!lock) await new Promise((r) => setTimeout(r, 100));
        }
        expect(lock).toBeDefined();
        await lock!.release();
      } finally {
        await killed(child, 'SIGKILL');
      }
    });

    it('stops a run from writing once another run took its lock over', async () => {
      const s = sync();
      const slow = await open();
      const lock = await slow.acquireLock(s, 'run-slow');
      await slow.commitRows(s, [row('a', '1')]);
      // A store that judges every heartbeat too old: as if run-slow had hung for minutes.
      const impatient = await open({ lock: { staleAfterMs: -1 } });
      const taken = await impatient.acquireLock(s, 'run-new');
      await expect(slow.commitRows(s, [row('a', '2')])).rejects.toThrow(/run-slow no longer holds the lock/);
      await expect(slow.replaceRowState(s, [row('a', '3')])).rejects.toThrow(RunError);
      await impatient.commitRows(s, [row('b', '3')]);
      await lock.release(); // releasing a lock no longer held leaves the new holder's alone
      await expect(open().then((o) => o.acquireLock(s, 'run-third'))).rejects.toThrow(/run-new/);
      expect(await stateOf(impatient, s)).toEqual(expected([row('a', '1'), row('b', '3')]));
      await taken.release();
    });

    it('saves, updates and lists runs newest first, by sync, with limit and before', async () => {
      const store = await open();
      const [s1, s2] = [sync(), sync()];
      const runs = [
        record(s1, 'r1', '2025-01-01T10:00:00.000Z'), record(s1, 'r2', '2025-01-02T10:00:00.000Z'),
        record(s2, 'r3', '2025-01-03T10:00:00.000Z'), record(s1, 'r4', '2025-01-04T10:00:00.000Z'),
      ];
      for (const run of runs) await store.saveRun(run);
      const finished = record(s1, 'r2', '2025-01-02T10:00:00.000Z', { status: 'partial', delivered: 1830, rejected: 12, durationMs: 14200, finishedAt: '2025-01-02T10:00:14.200Z' });
      await store.saveRun(finished);

      const ids = (list: { runId: string }[]) => list.map((r) => r.runId.split(':')[1]);
      expect(ids(await store.listRuns({ sync: s1 }))).toEqual(['r4', 'r2', 'r1']);
      expect(ids(await store.listRuns({ sync: s1, limit: 2 }))).toEqual(['r4', 'r2']);
      expect(ids(await store.listRuns({ sync: s1, before: '2025-01-04T10:00:00.000Z' }))).toEqual(['r2', 'r1']);
      expect(ids(await store.listRuns({ sync: s1, before: '2025-01-02T11:00:00+01:00' }))).toEqual(['r1']);
      expect(ids(await store.listRuns({ sync: s2 }))).toEqual(['r3']);
      const mine = (await store.listRuns({ limit: 1000 })).filter((r) => r.sync === s1 || r.sync === s2);
      expect(ids(mine)).toEqual(['r4', 'r3', 'r2', 'r1']);
      expect((await store.listRuns({ sync: s1 }))[1]).toEqual(finished.summary);

      await store.appendTrace(finished.summary.runId, [
        { at: '2025-01-02T10:00:01.000Z', step: 1, text: 'records_fetched: 14,205' },
        { at: '2025-01-02T10:00:02.000Z', step: 2, text: 'records_to_sync: 1,842' },
      ]);
      await store.appendTrace(finished.summary.runId, [{ at: '2025-01-02T10:00:03.000Z', step: 3, text: 'batch 1: 200 OK [500]' }]);
      const got = await (await open()).getRun(finished.summary.runId);
      expect(got).toEqual({ ...finished, trace: [
        { at: '2025-01-02T10:00:01.000Z', step: 1, text: 'records_fetched: 14,205' },
        { at: '2025-01-02T10:00:02.000Z', step: 2, text: 'records_to_sync: 1,842' },
        { at: '2025-01-02T10:00:03.000Z', step: 3, text: 'batch 1: 200 OK [500]' },
      ] });
      expect(await store.getRun(`${s1}:missing`)).toBeUndefined();
    });

    it('pages rejected rows, filters by category with exact totals, and counts by category', async () => {
      const store = await open();
      const s = sync();
      const runId = `${s}:run`;
      const rows: RejectedRow[] = Array.from({ length: 230 }, (_, i) => ({
        runId, sync: s, key: `k${i}`, category: REJECT_CATEGORIES[i % 3], message: `refused ${i}`,
        retryable: i % 2 === 0, at: '2025-01-01T00:00:00.000Z', ...(i % 5 === 0 ? { field: 'Email', code: 'INVALID_EMAIL' } : {}),
      }));
      await store.addRejected(rows.slice(0, 100));
      await store.addRejected(rows.slice(100));
      await store.addRejected([{ ...rows[0], runId: `${s}:other` }]);

      // Keys that are not numbers come in text order.
      const byKey = [...rows].sort((a, b) => (a.key < b.key ? -1 : 1));
      const page = await store.listRejected(runId, { offset: 50, limit: 20 });
      expect(page.total).toBe(230);
      expect(page.rows).toEqual(byKey.slice(50, 70));
      const cat = REJECT_CATEGORIES[1];
      const filtered = byKey.filter((r) => r.category === cat);
      const byCat = await store.listRejected(runId, { category: cat, offset: 70, limit: 10 });
      expect(byCat).toEqual({ total: filtered.length, rows: filtered.slice(70, 77) });
      expect((await store.listRejected(runId, { category: 'stale_data' })).total).toBe(0);
      expect(await store.rejectedByCategory(runId)).toEqual({ [REJECT_CATEGORIES[0]]: 77, [REJECT_CATEGORIES[1]]: 77, [REJECT_CATEGORIES[2]]: 76 });
      expect(await store.rejectedByCategory(`${s}:none`)).toEqual({});
    });

    it('lists numeric keys in number order, keeps the values sent, groups by code and message, and knows each key\'s newest rejection', async () => {
      const store = await open();
      const s = sync();
      const at = '2025-01-01T00:00:00.000Z';
      const row = (runId: string, key: string, code: string, message: string): RejectedRow => ({
        runId, sync: s, key, category: 'invalid_row', code, message, retryable: false, at, sent: { id: Number(key), price: -1, tags: ['a'] },
      });
      await store.addRejected(['10', '9', '100', '2'].map((key) => row(`${s}:1`, key, 'CHECK', 'price must be positive')));
      await store.addRejected([row(`${s}:1`, '3', 'TOO_LONG', 'name "Ada" is 81 characters, at most 80'), row(`${s}:1`, '4', 'TOO_LONG', 'name "Bob" is 95 characters, at most 80')]);
      const page = await store.listRejected(`${s}:1`);
      expect(page.rows.map((r) => r.key)).toEqual(['2', '3', '4', '9', '10', '100']);
      expect(page.rows[0]!.sent).toEqual({ id: 2, price: -1, tags: ['a'] });
      expect(await store.rejectedGroups(`${s}:1`)).toEqual([
        { category: 'invalid_row', code: 'CHECK', message: 'price must be positive', count: 4 },
        { category: 'invalid_row', code: 'TOO_LONG', message: 'name … is … characters, at most …', count: 2 },
      ]);
      await store.addRejected([row(`${s}:2`, '9', 'OTHER', 'refused again')]);
      const latest = await store.latestRejections(s);
      expect(latest.map((r) => [r.key, r.runId, r.code])).toEqual([
        ['2', `${s}:1`, 'CHECK'], ['3', `${s}:1`, 'TOO_LONG'], ['4', `${s}:1`, 'TOO_LONG'], ['9', `${s}:2`, 'OTHER'], ['10', `${s}:1`, 'CHECK'], ['100', `${s}:1`, 'CHECK'],
      ]);
    });

    it('pauses and resumes a sync; a second pause keeps the first one\'s time', async () => {
      const store = await open();
      const s = sync();
      expect(await store.pausedAt(s)).toBeNull();
      await store.setPaused(s, '2025-01-01T00:00:00.000Z');
      await store.setPaused(s, '2025-02-01T00:00:00.000Z');
      expect(await store.pausedAt(s)).toBe('2025-01-01T00:00:00.000Z');
      await store.setPaused(s, null);
      expect(await store.pausedAt(s)).toBeNull();
    });
  });
}
