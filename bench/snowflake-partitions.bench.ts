/**
 * `npm run bench -- snowflake`: one result of 40 partitions read from the Snowflake fake, every
 * request answered after 20 ms, partitions fetched one at a time (partitionConcurrency 1) and in
 * parallel (4, 8). The clock runs from partition 0 (it comes with the statement's answer) to the
 * last row: the fetch of partitions 1–39. The fake runs in its own process. Partitions are small
 * (100 rows) so the bench measures the request latency parallel fetching hides, not the CPU of
 * a busy 2-core machine. Median of 3 reads. Goal: parallel ≥ 2× sequential.
 */
import { generateKeyPairSync } from 'node:crypto';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchTable } from './run.ts';
import { SnowflakeSource } from '../src/sources/snowflake/snowflake-source.ts';

const PARTITIONS = 40;
const PARTITION_ROWS = 100;
const LATENCY_MS = 20;
const RUNS = 3;

export default async function bench(): Promise<BenchTable[]> {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'snowflake', 'fake-snowflake-process.ts');
  const child = fork(script, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = async <T>(message: object, answer: string): Promise<T> => {
    child.send(message);
    for (;;) {
      const [reply] = (await once(child, 'message')) as [{ type: string } & T];
      if (reply.type === answer) return reply;
    }
  };
  const setupSql = `CREATE TABLE bench_rows AS SELECT i AS id, md5(i::VARCHAR) AS h, i * 0.25 AS amount,
    TIMESTAMPTZ '2024-03-01 00:00:00+00' + i * INTERVAL 1 SECOND AS updated_at FROM range(${PARTITIONS * PARTITION_ROWS}) t(i)`;
  const publicKeyPem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const { url } = await ask<{ url: string }>({ type: 'start', publicKeyPem, partitionRows: PARTITION_ROWS, latencyMs: LATENCY_MS, setupSql }, 'started');
  const requests = async () => (await ask<{ count: number }>({ type: 'requests' }, 'requests')).count;
  const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const rows: BenchTable['rows'] = [];
  let sequentialMs = 0;
  try {
    for (const concurrency of [1, 4, 8]) {
      const source = new SnowflakeSource('bench', { account: 'bench', user: 'lastmile', auth: { privateKey }, url, partitionConcurrency: concurrency });
      await read(source); // warm: JWT signed, DuckDB and the HTTP pool ready
      const runs: { fetchMs: number; totalMs: number; count: number }[] = [];
      for (let run = 0; run < RUNS; run++) {
        const before = await requests();
        runs.push(await read(source));
        const made = (await requests()) - before;
        if (made !== PARTITIONS) throw new Error(`expected ${PARTITIONS} requests a read (1 statement, ${PARTITIONS - 1} partitions), saw ${made}`);
      }
      const median = runs.sort((a, b) => a.fetchMs - b.fetchMs)[Math.floor(RUNS / 2)]!;
      if (concurrency === 1) sequentialMs = median.fetchMs;
      rows.push({
        'partitions at once': concurrency,
        rows: median.count,
        'partition GETs': PARTITIONS - 1,
        'fetch of partitions 1–39 (ms)': Math.round(median.fetchMs),
        'whole read (ms)': Math.round(median.totalMs),
        'fetch speed-up vs one at a time': `${(sequentialMs / median.fetchMs).toFixed(1)}×`,
      });
    }
  } finally {
    child.send({ type: 'close' });
    await once(child, 'exit');
  }
  return [{ title: `Snowflake result partitions: ${PARTITIONS} × ${PARTITION_ROWS} rows from the fake, ${LATENCY_MS} ms a request (median of ${RUNS})`, rows }];
}

async function read(source: SnowflakeSource): Promise<{ fetchMs: number; totalMs: number; count: number }> {
  const started = performance.now();
  let firstAt = 0;
  let count = 0;
  for await (const chunk of source.read('SELECT * FROM bench_rows ORDER BY id', { chunkSize: PARTITION_ROWS, signal: new AbortController().signal })) {
    firstAt ||= performance.now();
    count += chunk.rows.length;
  }
  const end = performance.now();
  return { fetchMs: end - firstAt, totalMs: end - started, count };
}
