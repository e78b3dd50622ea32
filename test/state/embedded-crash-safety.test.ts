import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { EmbeddedStateStore, folderName } from '../../src/state/embedded/embedded-state-store.ts';
import { scanInto, stateOf } from '../conformance/state-store-helpers.ts';
import { batchUpdates } from './crash-batches.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'commit-crash-child.ts');
const roots: string[] = [];
const duck = await DuckDBInstance.create(':memory:');

afterAll(() => {
  duck.closeSync();
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lm-crash-'));
  roots.push(root);
  return root;
}

/**
 * Runs the committing child until it has printed `until` lines matching `pattern`, then kills it
 * with SIGKILL. Answers every batch it acknowledged (commitRows had resolved before the line).
 */
async function runAndKill(root: string, sync: string, mode: string, first: number, pattern: RegExp, until: number, delayMs = 0): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, root, sync, mode, String(first)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: number[] = [];
  let seen = 0;
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
        if (pattern.test(line) && ++seen === until) setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited by itself (${code})`))));
  });
  return acked;
}

/** The state as a fresh process would see it, summarised per batch. */
async function inspect(root: string, sync: string) {
  const store = new EmbeddedStateStore(root);
  const ws = await duck.connect();
  try {
    await scanInto(store, sync, ws, 'prev');
    const reader = await ws.runAndReadAll(
      `SELECT split_part(key, '-', 1) AS batch, count(*)::INT AS n, min(fp)::VARCHAR AS lo, max(fp)::VARCHAR AS hi,
              bool_and(dest_id = 'd' || substr(key, 2) AND match = '{"id":"' || key || '"}') AS intact
       FROM prev WHERE key LIKE 'b%' GROUP BY 1`);
    const batches = new Map(reader.getRowObjectsJson().map((r) => [Number(String(r.batch).slice(1)), r]));
    const hot = (await ws.runAndReadAll(`SELECT fp::VARCHAR AS fp FROM prev WHERE key = 'hot'`)).getRowObjectsJson()[0]?.fp;
    const seeds = (await ws.runAndReadAll(`SELECT count(*)::INT AS n FROM prev WHERE key LIKE 'seed%'`)).getRowObjectsJson()[0].n;
    return { batches, hot: hot === undefined ? undefined : Number(hot), seeds: seeds as number };
  } finally {
    ws.closeSync();
    await store.close();
  }
}

/**
 * Every acknowledged batch is whole: its 100 rows, less row 0 once the next batch is acknowledged
 * (a batch after the last ack may have been cut by the kill: it may or may not have deleted it).
 */
function expectAcked(state: Awaited<ReturnType<typeof inspect>>, acked: number[]): void {
  for (const b of acked) {
    const got = state.batches.get(b);
    expect(got, `batch ${b}`).toMatchObject({ lo: String(b), hi: String(b), intact: true });
    if (acked.includes(b + 1)) expect(got!.n, `batch ${b}`).toBe(99);
    else expect([99, 100], `batch ${b}`).toContain(got!.n);
  }
  for (const [, got] of state.batches) expect(got.intact).toBe(true);
  expect(state.hot).toBeGreaterThanOrEqual(Math.max(...acked));
}

describe('embedded state store under kill -9', () => {
  it('keeps every batch whose commitRows resolved, and accepts commits after the crash', async () => {
    const root = tempRoot();
    const acked: number[] = [];
    let next = 0;
    for (const killAfter of [1, 9, 40]) {
      acked.push(...await runAndKill(root, 'crashy', 'commit', next, /^ack /, killAfter));
      expectAcked(await inspect(root, 'crashy'), acked);
      // The journal may end in a torn line: a new process must still append readable entries.
      next = Math.max(...acked) + 10;
      const store = new EmbeddedStateStore(root);
      await store.commitRows('crashy', batchUpdates(next));
      await store.close();
      acked.push(next++);
      expectAcked(await inspect(root, 'crashy'), acked);
    }
  });

  it('loses nothing when killed while compacting', async () => {
    const root = tempRoot();
    const seeder = new EmbeddedStateStore(root);
    await seeder.replaceRowState('compacty', Array.from({ length: 20000 }, (_, i) => ({ key: `seed${i}`, fp: String(i), status: 'delivered' as const })));
    await seeder.close();

    const acked: number[] = [];
    let next = 0;
    for (const [nth, delayMs] of [[1, 0], [2, 10], [3, 40]]) {
      acked.push(...await runAndKill(root, 'compacty', 'compact', next, /^compacting /, nth, delayMs));
      const state = await inspect(root, 'compacty');
      expect(state.seeds).toBe(20000);
      expectAcked(state, acked);
      next = Math.max(...acked) + 10;
    }
    const dir = path.join(root, 'syncs', folderName('compacty'));
    const generations = fs.readdirSync(dir).filter((f) => f.startsWith('snapshot-') && f.endsWith('.parquet'));
    expect(generations.length).toBeLessThanOrEqual(3); // old generations are cleaned up, not piled up
  });
});

describe('embedded state store recovering from a crash\'s leftovers', () => {
  it('ignores a torn journal line, then appends after it', async () => {
    const root = tempRoot();
    const store = new EmbeddedStateStore(root);
    await store.commitRows('s', [{ key: 'a', fp: '1', status: 'delivered' }]);
    await store.close();
    const journal = path.join(root, 'syncs', 's', 'journal-0.ndjson');
    fs.appendFileSync(journal, '{"s":2,"k":"b","f":"2","st":"deliv');

    const reopened = new EmbeddedStateStore(root);
    expect((await stateOf(reopened, 's')).map((r) => r.key)).toEqual(['a']);
    await reopened.commitRows('s', [{ key: 'c', fp: '3', status: 'delivered' }, { key: 'a', fp: '4', status: 'delivered' }]);
    expect((await stateOf(reopened, 's')).map((r) => `${r.key}=${r.fp}`)).toEqual(['a=4', 'c=3']);
    expect(fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).s)).toEqual([1, 2, 3]);
    await reopened.close();
  });

  it('reads the old generation when a compaction died before switching, and cleans up after it', async () => {
    const root = tempRoot();
    const ws = await duck.connect();
    const store = new EmbeddedStateStore(root);
    await store.commitRows('s', [{ key: 'a', fp: '1', status: 'delivered' }]);
    await store.compactRowState('s'); // generation 1
    await store.commitRows('s', [{ key: 'b', fp: '2', status: 'delivered' }]);
    await store.close();

    // What a compaction killed halfway leaves: generation 2 files, the manifest still on 1.
    const dir = path.join(root, 'syncs', 's');
    await ws.run(`COPY (SELECT 'ghost' AS key, 9::UBIGINT AS fp, 'delivered' AS status, NULL::VARCHAR AS dest_id, NULL::VARCHAR AS match)
                  TO '${dir}/snapshot-2.parquet' (FORMAT parquet)`);
    fs.writeFileSync(path.join(dir, 'journal-2.ndjson'), '{"s":1,"k":"ghost2","f":"9","st":"delivered"}\n');
    fs.writeFileSync(path.join(dir, 'snapshot-3.parquet.tmp'), 'half a parquet file');

    const reopened = new EmbeddedStateStore(root);
    expect((await stateOf(reopened, 's')).map((r) => r.key)).toEqual(['a', 'b']);
    await reopened.compactRowState('s');
    await reopened.commitRows('s', [{ key: 'c', fp: '3', status: 'delivered' }]);
    expect((await stateOf(reopened, 's')).map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect(fs.readdirSync(dir).sort()).toEqual(['journal-1.ndjson', 'journal-2.ndjson', 'manifest.json', 'snapshot-1.parquet', 'snapshot-2.parquet']);
    await reopened.close();
    ws.closeSync();
  });
});
