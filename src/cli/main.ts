#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../errors.ts';
import { packageInfo } from '../package-root.ts';
import type { CliEnv, GlobalOptions } from './cli-env.ts';
import { EXIT } from './exit-codes.ts';
import { DEMO_RECEIVER_PORT } from './demo/demo-port.ts';

// Each command's code is imported when that command runs: `lastmile --help` loads no driver.
const program = new Command('lastmile')
  .description('Reverse ETL: keep operational systems in sync with your warehouse, sending only what changed.')
  .option('-c, --config <path>', 'config file or folder', './lastmile.yml')
  .option('--json', 'machine output on stdout, logs on stderr')
  .version(packageInfo().version, '-V, --version', 'the version of lastmile')
  .exitOverride()
  .showHelpAfterError();

/** Opens the project for a command, runs it, and turns its result into the exit code. */
function withEnv<A extends unknown[]>(fn: (env: CliEnv, ...args: A) => Promise<number>) {
  return async (...args: A) => {
    const { openCliEnv } = await import('./cli-env.ts');
    const env = await openCliEnv(program.opts<GlobalOptions>());
    try {
      process.exitCode = await fn(env, ...args);
    } finally {
      await env.close();
    }
  };
}

program.command('init [dir]').description('write a working example project (embedded DuckDB warehouse with sample data)')
  .action(async (dir?: string) => {
    const { initCommand } = await import('./commands/init-command.ts');
    process.exitCode = await initCommand(dir ?? '.', (t) => process.stderr.write(t + '\n'));
  });

program.command('check').description('validate the config and test every connection')
  .action(async () => {
    const { checkCommand } = await import('./commands/check-command.ts');
    process.exitCode = await checkCommand(program.opts<GlobalOptions>());
  });

program.command('plan <sync>').description('read the model and diff it; write nothing; estimate the duration')
  .action(withEnv(async (env, sync: string) => (await import('./commands/plan-command.ts')).planCommand(env, sync)));

program.command('sync <sync>').description('run a sync once')
  .option('--full-resync', 'send every row again, as if nothing had been synced')
  .option('--dry-run', 'read and diff, report what would be sent, write nothing')
  .option('--retry-rejected', 'send rows that were refused for good again, even if unchanged')
  .option('--queue', 'hand the run to the workers of the distributed mode (queue: on Redis) and wait for its summary')
  .option('--only <key>', 'send just the row with this primary key (even if unchanged) and show the requests and answers')
  .action(async (sync: string, flags: { fullResync?: boolean; dryRun?: boolean; retryRejected?: boolean; queue?: boolean; only?: string }) =>
    withEnv(async (env) => flags.only !== undefined
      ? (await import('./commands/test-row-command.ts')).testRowCommand(env, sync, flags.only, flags)
      : (await import('./commands/sync-command.ts')).syncCommand(env, sync, flags))());

program.command('pause <sync>').description('pause a sync: no scheduled, dependent, dbt, API or CLI run starts until it is resumed')
  .action(withEnv(async (env, sync: string) => (await import('./commands/pause-command.ts')).pauseCommand(env, sync, true)));
program.command('resume <sync>').description('resume a paused sync')
  .action(withEnv(async (env, sync: string) => (await import('./commands/pause-command.ts')).pauseCommand(env, sync, false)));

const runs = program.command('runs').description('run history; `runs show RUN_ID` for one run')
  .argument('[sync]', 'only runs of this sync')
  .option('-n, --limit <n>', 'how many runs', '20')
  .action(async (sync: string | undefined, flags: { limit: string }) =>
    withEnv(async (env) => (await import('./commands/runs-command.ts')).runsCommand(env, sync, Number(flags.limit)))());
runs.command('show <runId>').description("one run's trace and its rejected rows with reasons")
  .option('-n, --limit <n>', 'how many rejected rows', '50')
  .option('--all-batches', 'every batch line of the trace (by default: the first, the last and every one that was not a plain 200)')
  .action(async (runId: string, flags: { limit: string; allBatches?: boolean }, show: Command) => {
    // Commander hands `runs show RUN --limit N` to the parent's --limit (the history's): on this line it means show's.
    const limit = show.getOptionValueSource('limit') !== 'cli' && runs.getOptionValueSource('limit') === 'cli' ? runs.opts().limit : flags.limit;
    await withEnv(async (env) => (await import('./commands/runs-command.ts')).runShowCommand(env, runId, Number(limit), flags.allBatches))();
  });

program.command('serve').description('REST API, web UI and scheduler in one process')
  .option('-p, --port <port>', 'port', '8080')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .action(async (flags: { port: string; host: string }) => {
    const { serve } = await import('../server/serve.ts');
    const server = await serve({ configPath: program.opts<GlobalOptions>().config, port: Number(flags.port), host: flags.host });
    // The server's log (JSON on stdout) has the one start-up line.
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.command('worker').description('a worker of the distributed mode (queue on Redis, state on Postgres)')
  .option('--batches <n>', 'batches delivered at once by this worker', '4')
  .option('--runs <n>', 'runs diffed at once by this worker', '2')
  .option('--metrics-port <port>', 'serve this worker\'s Prometheus /metrics on this port')
  .action(async (flags: { batches: string; runs: string; metricsPort?: string }) => {
    const { workerCommand } = await import('./commands/worker-command.ts');
    const { openCliEnv } = await import('./cli-env.ts');
    const env = await openCliEnv(program.opts<GlobalOptions>());
    process.exitCode = await workerCommand(env, {
      batchConcurrency: Number(flags.batches), runConcurrency: Number(flags.runs), metricsPort: flags.metricsPort === undefined ? undefined : Number(flags.metricsPort),
    });
  });

program.command('receiver').description('a local bulk-update endpoint for the demo project (answers 429 past its rate)')
  .option('-p, --port <port>', 'port', String(DEMO_RECEIVER_PORT))
  .option('--rate <n>', 'requests per second before 429', '20')
  .action(async (flags: { port: string; rate: string }) => {
    const { startDemoReceiver } = await import('./demo/demo-receiver.ts');
    const receiver = await startDemoReceiver({ port: Number(flags.port), requestsPerSecond: Number(flags.rate), log: (l) => process.stdout.write(l + '\n') });
    process.stderr.write(`demo receiver listening on ${receiver.url}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? 0 : EXIT.usage;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`lastmile: ${error.message}\n`);
    process.exitCode = EXIT.usage;
  } else {
    process.stderr.write(`lastmile: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.failed;
  }
}
