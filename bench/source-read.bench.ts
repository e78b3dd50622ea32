/**
 * Step 1 of a run from a database: reading a Postgres or MySQL model into the workspace,
 * against the database's own bulk export of the same query, measured in turn in the same run:
 * Postgres `COPY (…) TO STDOUT` drained by a pg client, and MySQL's command-line client
 * (`mariadb` or `mysql --batch --quick --raw`, process start included). For context, the
 * row-by-row path (read() + stageRows) every database source took before.
 */
import { access } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { BenchTable } from './run.ts';
import { createMysqlPrices, createPgPrices, dropTables, median, MYSQL_URL, PG_URL, timeProcess } from './databases/bench-databases.ts';
import type { Source } from '../src/sources/source.ts';
import { postgresSourceType } from '../src/sources/postgres/postgres-type.ts';
import { mysqlSourceType } from '../src/sources/mysql/mysql-type.ts';
import { stageRows } from '../src/sources/duckdb/duckdb-staging.ts';
import { openWorkspace } from '../src/diff/workspace/workspace.ts';
import { readModel } from '../src/diff/workspace/read-model.ts';

const quick = process.env.LASTMILE_BENCH_QUICK === '1';
const SIZES = quick ? [100_000] : [100_000, 1_000_000];
const REPEATS = 3;
const TABLE = 'lastmile_bench_read';
/** The row-by-row path takes long on large models: measured up to this size. */
const ROW_PATH_MAX = 100_000;

interface Database {
  name: string;
  source: () => Source;
  /** The database's own export of `sql`, in ms. */
  bulkExport: (sql: string) => Promise<number>;
}

const postgres: Database = {
  name: 'Postgres',
  source: () => postgresSourceType.create({ name: 'bench', type: 'postgres', url: PG_URL }, '/'),
  async bulkExport(sql) {
    const started = performance.now();
    const client = new pg.Client(PG_URL);
    await client.connect();
    await pipeline(client.query(copyTo(`COPY (${sql}) TO STDOUT`)), new Writable({ write: (_chunk, _encoding, done) => done() }));
    await client.end();
    return performance.now() - started;
  },
};

const mysqlDatabase = (client: string): Database => ({
  name: 'MySQL (MariaDB)',
  source: () => mysqlSourceType.create({ name: 'bench', type: 'mysql', url: MYSQL_URL }, '/'),
  async bulkExport(sql) {
    const url = new URL(MYSQL_URL);
    const args = ['--batch', '--quick', '--raw', '--skip-column-names', `--host=${url.hostname}`, `--port=${url.port || 3306}`,
      `--user=${decodeURIComponent(url.username)}`, url.pathname.slice(1), '-e', sql];
    return (await timeProcess(client, args, { env: { MYSQL_PWD: decodeURIComponent(url.password) } })).ms;
  },
});

async function lastmileLoad(database: Database, sql: string): Promise<number> {
  const workspace = await openWorkspace();
  const source = database.source();
  try {
    const started = performance.now();
    await readModel(workspace, source, { name: 'prices', source: 'bench', sql, primaryKey: ['id'] }, null, new AbortController().signal);
    return performance.now() - started;
  } finally {
    await source.close();
    await workspace.close();
  }
}

async function rowByRow(database: Database, sql: string): Promise<number> {
  const workspace = await openWorkspace();
  const source = database.source();
  const signal = new AbortController().signal;
  try {
    const started = performance.now();
    await stageRows(workspace.connection, 'staged', source.read(sql, { chunkSize: 10_000, signal }), signal);
    return performance.now() - started;
  } finally {
    await source.close();
    await workspace.close();
  }
}

async function mysqlClient(): Promise<string | undefined> {
  for (const name of ['mariadb', 'mysql']) {
    for (const dir of (process.env.PATH ?? '').split(':')) {
      if (await access(`${dir}/${name}`).then(() => true, () => false)) return `${dir}/${name}`;
    }
  }
  return undefined;
}

export default async function run(): Promise<BenchTable[]> {
  const largest = Math.max(...SIZES);
  await createPgPrices(TABLE, largest);
  await createMysqlPrices(TABLE, largest);
  const client = await mysqlClient();
  const databases = client ? [postgres, mysqlDatabase(client)] : [postgres];
  const rows: BenchTable['rows'] = [];
  try {
    await measureAll(databases, rows);
  } finally {
    await dropTables([TABLE]);
  }
  return [{ title: `reading a model into the workspace vs the database's own bulk export (median of ${REPEATS}, in turn)`, rows }];
}

async function measureAll(databases: Database[], rows: BenchTable['rows']): Promise<void> {
  for (const database of databases) {
    for (const size of SIZES) {
      const sql = `SELECT * FROM ${TABLE} WHERE id <= ${size}`;
      const exports: number[] = [];
      const loads: number[] = [];
      const before: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        exports.push(await database.bulkExport(sql));
        loads.push(await lastmileLoad(database, sql));
        if (size <= ROW_PATH_MAX) before.push(await rowByRow(database, sql));
      }
      const ratios = exports.map((ms, i) => ms / loads[i]!);
      rows.push({
        database: database.name,
        rows: size,
        'bulk export (ms)': Math.round(median(exports)),
        'export rows/s': Math.round(size / (median(exports) / 1000)),
        'Lastmile load (ms)': Math.round(median(loads)),
        'load rows/s': Math.round(size / (median(loads) / 1000)),
        'load / export rate': `${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')})`,
        'row by row, before (ms)': before.length ? Math.round(median(before)) : 'not run',
        target: '≥ 0.5',
      });
    }
  }
}
