import { execFile } from 'node:child_process';
import pg from 'pg';
import mysql from 'mysql2/promise';

/** The databases the source benches use: the test databases unless told otherwise. */
export const PG_URL = process.env.LASTMILE_BENCH_PG_URL ?? process.env.LASTMILE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env.LASTMILE_BENCH_MYSQL_URL ?? process.env.LASTMILE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A table of `rows` competitor prices in Postgres (id 1…rows, primary key id). */
export async function createPgPrices(table: string, rows: number): Promise<void> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(`CREATE TABLE ${table} AS SELECT i::int8 AS id, 'SKU-' || i AS sku, (ARRAY['acme','globex','hooli'])[1 + i % 3] AS competitor,
      ((i % 100000) / 100.0)::numeric(10,2) AS price, 'EUR'::text AS currency, (i % 50)::int4 AS qty,
      timestamptz '2026-11-01 00:00:00+00' + i * interval '1.000001 second' AS updated_at, date '2026-01-01' + (i % 365) AS day,
      (i % 2 = 0) AS active FROM generate_series(1, ${rows}) i`);
    await client.query(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`);
  } finally {
    await client.end();
  }
}

/** The same table in MySQL/MariaDB, built from a cross join of digits (no sequence engine needed). */
export async function createMysqlPrices(table: string, rows: number): Promise<void> {
  const connection = await mysql.createConnection({ uri: MYSQL_URL });
  try {
    await connection.query(`SET time_zone = '+00:00'`);
    await connection.query(`DROP TABLE IF EXISTS ${table}`);
    await connection.query(`CREATE TABLE ${table} (id BIGINT PRIMARY KEY, sku VARCHAR(20), competitor VARCHAR(10), price DECIMAL(10,2),
      currency CHAR(3), qty INT, updated_at TIMESTAMP(6) NULL, day DATE, active BOOLEAN) CHARACTER SET utf8mb4`);
    const digits = `(SELECT 0 AS d UNION ALL ${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `SELECT ${d}`).join(' UNION ALL ')})`;
    const places = Math.max(1, Math.ceil(Math.log10(rows)));
    const number = Array.from({ length: places }, (_, p) => `${10 ** p} * p${p}.d`).join(' + ');
    const from = Array.from({ length: places }, (_, p) => `${digits} AS p${p}`).join(', ');
    await connection.query(`INSERT INTO ${table}
      SELECT i, CONCAT('SKU-', i), ELT(1 + i % 3, 'acme', 'globex', 'hooli'), (i % 100000) / 100.0, 'EUR', i % 50,
             TIMESTAMP'2026-11-01 00:00:00' + INTERVAL i * 1000001 MICROSECOND, DATE'2026-01-01' + INTERVAL (i % 365) DAY, i % 2 = 0
      FROM (SELECT 1 + ${number} AS i FROM ${from}) AS n WHERE i <= ${rows}`);
  } finally {
    await connection.end();
  }
}

/** Wall time of a child process, and its stdout; rejects when it fails (exit 2, rows rejected, still counts). */
export function timeProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ ms: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, maxBuffer: 1 << 30, env: { ...process.env, ...options.env } }, (error, stdout, stderr) => {
      if (error && (error as { code?: unknown }).code !== 2) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve({ ms: performance.now() - started, stdout });
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A difference in ms with its sign: "+5 ms", "-5 ms". */
export function signedMs(ms: number): string {
  return `${ms >= 0 ? '+' : ''}${Math.round(ms)} ms`;
}

export function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

export async function dropTables(tables: string[]): Promise<void> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  await client.query(`DROP TABLE IF EXISTS ${tables.join(', ')}`).finally(() => client.end());
  const connection = await mysql.createConnection({ uri: MYSQL_URL });
  await connection.query(`DROP TABLE IF EXISTS ${tables.join(', ')}`).finally(() => connection.end());
}

/** Runs `sql` in the Postgres bench database. */
export async function pgRun(sql: string): Promise<void> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  await client.query(sql).finally(() => client.end());
}
