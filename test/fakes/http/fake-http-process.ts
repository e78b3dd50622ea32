import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FakeHttpServer, type FakeHttpOptions, type LoggedRequest } from './fake-http-server.ts';

/**
 * The fake endpoint in a process of its own, for measuring rates. In one process, a pause of
 * the shared event loop (garbage collection, compiling) holds back the client's sends and the
 * fake's stamping alike, and requests sent before the pause get stamped together after it:
 * the fake would count a burst the client never sent. A remote API has its own clock; so does this.
 * Options must be plain data (no rejectWhen).
 */
export interface FakeHttpProcess {
  url: string;
  log(): Promise<Pick<LoggedRequest, 'at' | 'status' | 'records' | 'method' | 'path'>[]>;
  stop(): Promise<void>;
}

type Reply = { port?: number; log?: LoggedRequest[] };

export async function startFakeProcess(options: Omit<FakeHttpOptions, 'rejectWhen'> = {}): Promise<FakeHttpProcess> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve', JSON.stringify(options)], { execArgv: ['--import', tsx], stdio: 'inherit' });
  const next = () => new Promise<Reply>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Reply));
    child.once('exit', (code) => reject(new Error(`fake http process exited (${code})`)));
  });
  const { port } = await next();
  return {
    url: `http://127.0.0.1:${port}`,
    async log() {
      const reply = next();
      child.send('log');
      return (await reply).log ?? [];
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      await exited;
    },
  };
}

/** Most requests within any `windowMs`, from a log. */
export function maxInWindow(log: { at: number }[], windowMs = 1000): number {
  const times = log.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

if (process.argv[2] === '--serve' && process.send) {
  const server = await new FakeHttpServer(JSON.parse(process.argv[3] ?? '{}') as FakeHttpOptions).start();
  process.send({ port: Number(new URL(server.url).port) });
  process.on('message', async (m) => {
    if (m === 'log') process.send!({ log: server.log.map(({ at, status, records, method, path }) => ({ at, status, records, method, path })) });
    if (m === 'stop') {
      await server.stop();
      process.exit(0);
    }
  });
}
