import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RowStateUpdate, StateStore } from '../../src/state/state-store.ts';
import { rowStateSql } from '../../src/state/row-state-sql.ts';
import { emptySummary, type RunRecord } from '../../src/state/run-record.ts';

/** Helpers of the state store conformance suite: rows, expectations, runs, a lock-holding child. */

const LOCK_CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'state', 'lock-holder-child.ts');

export type Delivered = Extract<RowStateUpdate, { fp: string }>;

export function row(key: string, fp: string, destId: string | null = null, match: Delivered['match'] = { id: key }): Delivered {
  return { key, fp, status: 'delivered', destId, match };
}

export interface StateRow { key: string; fp: string; status: string; dest_id: string | null; match: unknown; local_fp: string | null }

/** What a store must show for the latest update of each key. */
export function expected(updates: RowStateUpdate[]): StateRow[] {
  const latest = new Map<string, RowStateUpdate>();
  for (const u of updates) latest.set(u.key, u);
  return [...latest.values()]
    .filter((u): u is Delivered => !('deleted' in u))
    .map((u) => ({ key: u.key, fp: u.fp, status: u.status, dest_id: u.destId ?? null, match: u.match ?? null, local_fp: u.localFp ?? null }))
    .sort(byKey);
}

export function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** The state as plain chunks give it (readRowState), sorted by key. */
export async function stateOf(store: StateStore, sync: string): Promise<StateRow[]> {
  const rows: StateRow[] = [];
  for await (const chunk of store.readRowState(sync, { chunkSize: 7 })) {
    for (const r of chunk) rows.push({ key: r.key, fp: r.fp, status: r.status, dest_id: r.destId ?? null, match: r.match ?? null, local_fp: r.localFp ?? null });
  }
  return rows.sort(byKey);
}

/** Makes relation `name` in `ws` over the files the store gives (as a DuckDB diff reads them), then releases them. */
export async function scanInto(store: StateStore, sync: string, ws: DuckDBConnection, name: string): Promise<void> {
  const files = await store.rowStateFiles(sync);
  try {
    await ws.run(`CREATE OR REPLACE TEMP TABLE ${name} AS ${rowStateSql(files)}`);
  } finally {
    await files.release();
  }
}

/** A relation of the workspace, in the same form as stateOf(). */
export async function readState(ws: DuckDBConnection, name: string): Promise<StateRow[]> {
  const reader = await ws.runAndReadAll(`SELECT key, fp::VARCHAR AS fp, status, dest_id, match, local_fp::VARCHAR AS local_fp FROM ${name}`);
  return reader.getRowObjectsJson()
    .map((r) => ({ key: r.key as string, fp: r.fp as string, status: r.status as string, dest_id: r.dest_id as string | null,
      match: r.match === null ? null : JSON.parse(r.match as string) as unknown, local_fp: r.local_fp as string | null }))
    .sort(byKey);
}

/** The diff the engine runs: a row is changed when its fingerprint differs. */
export async function diff(ws: DuckDBConnection, prev: string): Promise<{ changed: number; unchanged: number }> {
  const reader = await ws.runAndReadAll(
    `SELECT count(*) FILTER (WHERE c.fp <> p.fp)::INT AS changed, count(*) FILTER (WHERE c.fp = p.fp)::INT AS unchanged
     FROM current_model c JOIN ${prev} p ON p.key = c.key`);
  return reader.getRowObjectsJson()[0] as { changed: number; unchanged: number };
}

export function record(sync: string, id: string, startedAt: string, patch: Partial<RunRecord['summary']> = {}): RunRecord {
  return {
    summary: { ...emptySummary(sync, `${sync}:${id}`, startedAt), ...patch },
    profile: {
      model: 'competitor_prices', source: 'warehouse', sourceType: 'duckdb', destination: 'pricing_engine',
      destinationType: 'http', mode: 'upsert', syncModeLabel: 'Incremental (Upsert)', trigger: 'cli',
    },
  };
}

/** A child process that takes the lock of `sync` and holds it, heartbeating, until killed. */
export async function lockHolder(spec: string, sync: string, runId: string, heartbeatMs: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOCK_CHILD, spec, sync, runId, String(heartbeatMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before taking the lock: ${out}`)));
  });
  return child;
}

export function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
