import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeRow, Diff, DiffKind } from '../../src/diff/diff.ts';
import type { Column, Row } from '../../src/sources/source.ts';
import type { RowStateUpdate } from '../../src/state/state-store.ts';
import { keyOfRow, rowFingerprinter } from '../../src/diff/fingerprint/fingerprint-v1.ts';

/**
 * One suite every implementation of the diff port passes, on the same data with the same
 * answers: the DuckDB workspace beside the engine, and a diff inside a warehouse. The model is
 * MODEL_COLUMNS; the mapping reads MAPPED (not `note`); its signature is SIGNATURE.
 */
export const MODEL_COLUMNS: Column[] = [
  { name: 'sku', type: 'varchar' },
  { name: 'price', type: 'decimal', precision: 10, scale: 2 },
  { name: 'qty', type: 'integer' },
  { name: 'seen', type: 'timestamptz' },
  { name: 'note', type: 'varchar' },
];
export const MAPPED = ['price', 'qty', 'seen', 'sku'];
export const SIGNATURE = 'm1:diff-conformance';

export interface ModelRow {
  sku: string | null;
  price: string;
  qty: number;
  seen: string;
  note: string;
}

export interface DiffFixture {
  /** Replaces the model's rows (in the implementation's source: a DuckDB file, a warehouse table). */
  setModel(rows: ModelRow[]): Promise<void>;
  /** A diff of the model against the state of `sync`, primary key `sku`, fingerprint of MAPPED with SIGNATURE. */
  open(sync: string, options?: { retryRejected?: boolean; fullResync?: boolean; since?: string | null; cursor?: string; persist?: boolean }): Promise<Diff>;
  /** Commits to the state the diff reads, as a run does. */
  commit(sync: string, updates: RowStateUpdate[]): Promise<void>;
}

const signal = new AbortController().signal;
const typed = (names: string[]) => names.map((name) => MODEL_COLUMNS.find((c) => c.name === name)!);
const fingerprint = rowFingerprinter(SIGNATURE, typed(MAPPED));

export function row(i: number, patch: Partial<ModelRow> = {}): ModelRow {
  return { sku: `SKU-${String(i).padStart(4, '0')}`, price: `${i}.50`, qty: i, seen: '2026-03-01T10:00:00.123456Z', note: 'n', ...patch };
}

/** What a row's key and fingerprint must be, whoever computes them (recipe v1 in TypeScript). */
export function expectedOf(r: ModelRow): { key: string | null; fp: string } {
  return { key: keyOfRow(typed(['sku']), r as unknown as Row), fp: fingerprint(r as unknown as Row) };
}

async function all(diff: Diff, kinds: DiffKind[], chunkSize = 1000): Promise<{ rows: ChangeRow[]; chunks: number[] }> {
  const out = { rows: [] as ChangeRow[], chunks: [] as number[] };
  for await (const chunk of diff.changes(kinds, { chunkSize, signal })) {
    out.chunks.push(chunk.length);
    out.rows.push(...chunk);
  }
  out.rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

/** Everything the diff found, delivered: what a run would commit. */
function delivered(rows: ChangeRow[]): RowStateUpdate[] {
  return rows.map((c) => (c.kind === 'removed'
    ? { key: c.key, deleted: true as const }
    : { key: c.key, fp: c.fp!, localFp: c.localFp ?? null, status: 'delivered' as const, destId: `d-${c.key}`, match: { id: c.key } }));
}

export function diffConformance(name: string, setup: () => Promise<DiffFixture>, teardown?: () => Promise<void>): void {
  describe(`diff conformance: ${name}`, () => {
    let f: DiffFixture;
    const open: Diff[] = [];
    let n = 0;
    const sync = () => `diff-sync-${++n}-${Date.now()}`;
    const diffOf = async (s: string, options?: Parameters<DiffFixture['open']>[1]) => {
      const diff = await f.open(s, { persist: true, ...options });
      open.push(diff);
      return diff;
    };
    beforeAll(async () => { f = await setup(); });
    afterAll(async () => {
      for (const diff of open) await diff.close().catch(() => undefined);
      await teardown?.();
    });

    it('finds every row added on a first diff, with recipe v1 keys and fingerprints and the model values', async () => {
      const rows = Array.from({ length: 25 }, (_, i) => row(i + 1));
      await f.setModel(rows);
      const diff = await diffOf(sync());
      expect(diff.counts).toEqual({ fetched: 25, added: 25, changed: 0, removed: 0, unchanged: 0, invalid: 0, previous: 0 });
      const { rows: found } = await all(diff, ['added', 'changed', 'removed']);
      expect(found.map((c) => ({ kind: c.kind, key: c.key, fp: c.fp, previous: c.previous })))
        .toEqual(rows.map((r) => ({ kind: 'added', ...expectedOf(r), previous: null })));
      expect(found[0].row).toMatchObject({ sku: 'SKU-0001', price: '1.50', qty: 1, seen: '2026-03-01T10:00:00.123456Z', note: 'n' });
      expect(diff.columns.sort()).toEqual(MODEL_COLUMNS.map((c) => c.name).sort());
    });

    it('finds nothing once everything is committed, and exactly the added, changed and removed rows after', async () => {
      const s = sync();
      const rows = Array.from({ length: 30 }, (_, i) => row(i + 1));
      await f.setModel(rows);
      await f.commit(s, delivered((await all(await diffOf(s), ['added'])).rows));
      const again = await diffOf(s);
      expect(again.counts).toMatchObject({ fetched: 30, added: 0, changed: 0, removed: 0, unchanged: 30, previous: 30 });
      expect((await all(again, ['added', 'changed', 'removed'])).rows).toEqual([]);

      // One price changes, one note changes (not mapped), one row leaves, one arrives.
      const next = rows.filter((r) => r.sku !== 'SKU-0003').map((r) =>
        r.sku === 'SKU-0001' ? { ...r, price: '9.99' } : r.sku === 'SKU-0002' ? { ...r, note: 'changed' } : r);
      next.push(row(31));
      await f.setModel(next);
      const diff = await diffOf(s);
      expect(diff.counts).toEqual({ fetched: 30, added: 1, changed: 1, removed: 1, unchanged: 28, invalid: 0, previous: 30 });
      const found = (await all(diff, ['added', 'changed', 'removed'])).rows;
      expect(found.map((c) => `${c.kind} ${c.key}`)).toEqual(['changed SKU-0001', 'removed SKU-0003', 'added SKU-0031']);
      expect(found[0].fp).toBe(expectedOf(next[0]).fp);
      expect(found[0].previous).toEqual({ status: 'delivered', destId: 'd-SKU-0001', match: { id: 'SKU-0001' } });
      expect(found[1]).toMatchObject({ fp: null, row: null, previous: { status: 'delivered', destId: 'd-SKU-0003', match: { id: 'SKU-0003' } } });
      // Only the kinds asked for.
      expect((await all(diff, ['changed'])).rows.map((c) => c.key)).toEqual(['SKU-0001']);
    });

    it('hands changes over in chunks of at most the size asked, and samples the first of each kind', async () => {
      const s = sync();
      await f.setModel(Array.from({ length: 23 }, (_, i) => row(i + 1)));
      const diff = await diffOf(s);
      const { rows, chunks } = await all(diff, ['added'], 5);
      expect(rows).toHaveLength(23);
      expect(Math.max(...chunks)).toBeLessThanOrEqual(5);
      const sample = await diff.sample(3, signal);
      expect(sample.map((c) => c.key)).toEqual(['SKU-0001', 'SKU-0002', 'SKU-0003']);
    });

    it('counts rows with a null or duplicated key as invalid and lists them, and diffs the rest', async () => {
      const s = sync();
      await f.setModel([row(1), row(2), row(2, { qty: 99 }), row(3, { sku: null })]);
      const diff = await diffOf(s);
      expect(diff.counts).toMatchObject({ fetched: 4, added: 1, invalid: 3 });
      const invalid: { key: string | null; copies: number }[] = [];
      for await (const chunk of diff.invalidKeys(signal)) invalid.push(...chunk);
      expect(invalid.sort((a, b) => (a.key === null ? 1 : b.key === null ? -1 : a.key.localeCompare(b.key)))).toEqual([{ key: 'SKU-0002', copies: 2 }, { key: null, copies: 1 }]);
      expect((await all(diff, ['added'])).rows.map((c) => c.key)).toEqual(['SKU-0001']);
    });

    it('sends parked rows again on retryRejected, and every row on fullResync', async () => {
      const s = sync();
      const rows = [row(1), row(2), row(3)];
      await f.setModel(rows);
      const first = (await all(await diffOf(s), ['added'])).rows;
      await f.commit(s, delivered(first).map((u) => ('fp' in u && u.key === 'SKU-0002' ? { ...u, status: 'rejected' as const } : u)));
      expect((await diffOf(s)).counts).toMatchObject({ changed: 0, unchanged: 3 });
      const retry = await diffOf(s, { retryRejected: true });
      expect(retry.counts).toMatchObject({ changed: 1, unchanged: 2 });
      expect((await all(retry, ['changed'])).rows.map((c) => c.key)).toEqual(['SKU-0002']);
      expect((await diffOf(s, { fullResync: true })).counts).toMatchObject({ changed: 3, unchanged: 0 });
    });

    it('finds a row unchanged when another writer committed its recipe v1 fingerprint (the event path keeps no local fingerprint)', async () => {
      const s = sync();
      const rows = [row(1), row(2)];
      await f.setModel(rows);
      await f.commit(s, rows.map((r) => ({ key: expectedOf(r).key!, fp: expectedOf(r).fp, status: 'delivered' as const, match: { id: r.sku } })));
      const diff = await diffOf(s);
      expect(diff.counts).toMatchObject({ added: 0, changed: 0, unchanged: 2 });
      expect((await diffOf(s)).counts).toMatchObject({ changed: 0, unchanged: 2 });
    });

    it('reads only rows at or past the cursor, and takes no absence for a removal', async () => {
      const s = sync();
      const rows = [row(1, { seen: '2026-03-01T10:00:00Z' }), row(2, { seen: '2026-03-02T10:00:00Z' }), row(3, { seen: '2026-03-03T10:00:00Z' })];
      await f.setModel(rows);
      await f.commit(s, delivered((await all(await diffOf(s, { cursor: 'seen' }), ['added'])).rows));
      const diff = await diffOf(s, { cursor: 'seen', since: '2026-03-02T10:00:00Z' });
      expect(diff.incremental).toBe(true);
      expect(diff.counts).toMatchObject({ fetched: 2, added: 0, changed: 0, removed: 0, unchanged: 2 });
      expect(diff.highWaterMark).toBe('2026-03-03T10:00:00.000000Z');
    });
  });
}
