import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/lastmile.js');

/** A `lastmile worker` process in `dir`; resolves once it takes jobs. */
export async function startWorker(dir: string, batches = 2): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'worker', '--config', 'lastmile.yml', '--batches', String(batches)], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
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
  return child;
}

/** Sends `signal` and waits for the process to end. */
export function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
