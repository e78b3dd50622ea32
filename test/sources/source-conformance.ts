import { expect } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { modelReadSql, type BulkLoadSource, type Column, type ColumnType, type ModelRead, type Row, type Source, type Value } from '../../src/sources/source.ts';
import { streamRows } from '../../src/sources/duckdb/duckdb-rows.ts';
import { stageRows } from '../../src/sources/duckdb/duckdb-staging.ts';
import type { ModelConfig } from '../../src/config/project.ts';
import { openWorkspace } from '../../src/diff/workspace/workspace.ts';
import { readModel } from '../../src/diff/workspace/read-model.ts';

/**
 * One set of value assertions every source must pass. Each engine's test writes the same
 * row in its own SQL (`CANONICAL_ROW`), in a non-UTC session, and reads it back here.
 */
export const CANONICAL_ROW: Row = {
  id: 1,
  big: 9007199254740993n, // 2^53 + 1: a float would read …992
  dec: '12345678901234.5678', // a double would read …234.568
  tstz: '2024-03-01T10:00:00.123456Z', // written as 12:00:00.123456+02
  ts: '2024-03-01T12:00:00.000001', // no zone: the wall clock as written
  d: '2024-03-01',
  flag: true,
  doc: { a: [1, 2], b: 'x' },
  nothing: null,
  label: 'héllo "world"',
};

export const CANONICAL_TYPES: Record<string, ColumnType> = {
  big: 'bigint', dec: 'decimal', tstz: 'timestamptz', ts: 'timestamp', d: 'date', flag: 'boolean', doc: 'json',
};

export interface ReadResult {
  columns: Column[];
  rows: Row[];
  chunkSizes: number[];
}

export async function readAll(source: Source, sql: string, chunkSize = 1000, params: Value[] = []): Promise<ReadResult> {
  const result: ReadResult = { columns: [], rows: [], chunkSizes: [] };
  for await (const chunk of source.read(sql, { chunkSize, signal: new AbortController().signal, params })) {
    result.columns = chunk.columns;
    result.rows.push(...chunk.rows);
    result.chunkSizes.push(chunk.rows.length);
  }
  return result;
}

/** Reads the canonical row and checks every value and the types that carry meaning. */
export async function expectCanonicalRow(source: Source, sql: string): Promise<ReadResult> {
  const result = await readAll(source, sql);
  expect(result.rows).toEqual([CANONICAL_ROW]);
  const types = Object.fromEntries(result.columns.map((column) => [column.name, column.type]));
  for (const [name, type] of Object.entries(CANONICAL_TYPES)) expect(types[name], `type of ${name}`).toBe(type);
  return result;
}

/** Stages what the source reads into a DuckDB workspace and reads it back: nothing may change. */
export async function expectStagedRoundTrip(source: Source, sql: string): Promise<Row[]> {
  const signal = new AbortController().signal;
  const direct = await readAll(source, sql);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const count = await stageRows(connection, 'staged_rows', source.read(sql, { chunkSize: 2, signal }), signal);
    expect(count).toBe(direct.rows.length);
    const back: Row[] = [];
    for await (const chunk of streamRows(connection, 'SELECT * FROM staged_rows', [], 100, signal)) back.push(...chunk.rows);
    expect(back).toEqual(direct.rows);
    return back;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** `sql` returns `total` rows: every chunk holds at most `chunkSize`, and all of them arrive in order. */
export async function expectBoundedChunks(source: Source, sql: string, total: number, chunkSize: number): Promise<void> {
  const result = await readAll(source, sql, chunkSize);
  expect(result.rows).toHaveLength(total);
  expect(Math.max(...result.chunkSizes)).toBeLessThanOrEqual(chunkSize);
  expect(result.chunkSizes.slice(0, -1).every((size) => size === chunkSize)).toBe(true);
  expect(result.chunkSizes).toHaveLength(Math.ceil(total / chunkSize));
}

/**
 * Loads `read` in bulk and stages the rows `read()` gives for the same read: both tables must
 * have the same columns, types and values (so fingerprints are equal whichever way a row came).
 */
export async function expectBulkLoadEqualsStaging(source: BulkLoadSource, read: ModelRead): Promise<Row[]> {
  const signal = new AbortController().signal;
  const { connection, close } = await scratchWorkspace();
  try {
    const sql = modelReadSql(source, read, source.placeholder(1));
    await stageRows(connection, 'staged', source.read(sql, { chunkSize: 1000, signal, params: read.since ? [read.since.value] : [] }), signal);
    await source.loadInto(connection, 'loaded', read, signal);
    const describe = async (table: string) => (await connection.runAndReadAll(`DESCRIBE ${table}`)).getRowObjects().map((r) => `${r.column_name} ${r.column_type}`);
    expect(await describe('loaded')).toEqual(await describe('staged'));
    const differences = await connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM (SELECT * FROM staged EXCEPT ALL SELECT * FROM loaded)) + (SELECT count(*) FROM (SELECT * FROM loaded EXCEPT ALL SELECT * FROM staged)) AS n`);
    expect(Number(differences.getRowObjects()[0]!.n)).toBe(0);
    const rows = async (table: string) => {
      const out: Row[] = [];
      for await (const chunk of streamRows(connection, `SELECT * FROM ${table}`, [], 10_000, signal)) out.push(...chunk.rows);
      return out;
    };
    const loaded = await rows('loaded');
    expect(loaded).toEqual(await rows('staged'));
    return loaded;
  } finally {
    await close();
  }
}

/** A throwaway in-memory DuckDB to load into. */
export async function scratchWorkspace() {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  return { connection, close: async () => { connection.closeSync(); instance.closeSync(); } };
}

/**
 * Starts loading `read`, and once `running()` finds it on the server calls `interrupt` (which
 * aborts the load or ends its session). The load must settle with a message matching `message`,
 * and the source must work afterwards.
 */
export async function expectLoadInterrupted(
  source: BulkLoadSource,
  read: ModelRead,
  running: () => Promise<unknown>,
  interrupt: (controller: AbortController) => Promise<unknown>,
  message: RegExp | string,
): Promise<void> {
  const { connection, close } = await scratchWorkspace();
  try {
    const controller = new AbortController();
    const outcome = source.loadInto(connection, 'interrupted', read, controller.signal).then(() => 'loaded', (error: Error) => error.message);
    await running();
    await interrupt(controller);
    expect(await outcome).toMatch(message);
    await expect(source.check(new AbortController().signal)).resolves.toBeUndefined();
  } finally {
    await close();
  }
}

/** The `id`s a run reads of `model` (step 1, into a workspace), at or past `mark` in cursor mode. */
export async function readModelIds(source: Source, model: ModelConfig, mark: Value | null): Promise<Value[]> {
  const signal = new AbortController().signal;
  const workspace = await openWorkspace();
  try {
    const relation = await readModel(workspace, source, model, mark, signal);
    const ids: Value[] = [];
    for await (const chunk of streamRows(workspace.connection, `${relation.sql} ORDER BY id`, relation.params, 100, signal)) ids.push(...chunk.rows.map((row) => row.id!));
    return ids;
  } finally {
    await workspace.close();
  }
}
