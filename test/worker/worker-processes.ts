import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/lastmile.js');

/** A `lastmile worker` process in `dir`; resolves once it takes jobs. */
export async function startWorker(dir: string, batches = 2): Promise<ChildProcess> {
  return (await spawnWorker(dir, ['--batches', String(batches)])).child;
}

/** A `lastmile worker` serving its /metrics on a free port; resolves with where, once it takes jobs. */
export async function startWorkerWithMetrics(dir: string, batches = 2): Promise<{ child: ChildProcess; metricsUrl: string }> {
  const { child, output } = await spawnWorker(dir, ['--batches', String(batches), '--metrics-port', '0']);
  const url = /metrics at (\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`worker did not say where its metrics are: ${output}`);
  return { child, metricsUrl: url };
}

async function spawnWorker(dir: string, args: string[]): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(process.execPath, [bin, 'worker', '--config', 'lastmile.yml', ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (!output.includes('taking jobs')) return;
      clearInterval(timer);
      resolve();
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`worker exited ${code}: ${output}`));
    });
  });
  return { child, output };
}

/** Sends `signal` and waits for the process to end. */
export function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
