import { startWorker, type WorkerOptions } from '../../worker/worker.ts';
import type { CliEnv } from '../cli-env.ts';
import { EXIT } from '../exit-codes.ts';

/** `lastmile worker`: takes jobs until SIGINT or SIGTERM, then lets its jobs in flight finish or go back to the queue. */
export async function workerCommand(env: CliEnv, options: Omit<WorkerOptions, 'log'>): Promise<number> {
  let worker;
  try {
    worker = await startWorker(env.project, env.store, { ...options, log: (text) => env.log(text) });
  } catch (error) {
    await env.close();
    throw error;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  env.log('lastmile worker: stopping');
  await worker.close();
  await env.close();
  return EXIT.ok;
}
