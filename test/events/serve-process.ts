/**
 * `lastmile serve` as its own process, for tests that kill it (kill -9): serves the config
 * named by argv[2] on a free port without the UI, and prints its URL on a line of its own.
 */
import { serve } from '../../src/server/serve.ts';

const server = await serve({ configPath: process.argv[2]!, port: 0, ui: false, log: { level: 'warn', stream: process.stderr } });
process.stdout.write(`${server.url}\n`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
