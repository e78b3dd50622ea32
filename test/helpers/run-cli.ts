import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/lastmile.js');

export interface CliResult {
  /** Exit code; null when a signal ended the process. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last line of stdout that parses as JSON (the run summary under --json). */
  json?: Record<string, unknown>;
}

/**
 * Runs `lastmile ARGS` in a child process, as a user would: a crash shows as an exit code,
 * an unhandled error on stderr. `env` is added to this process's environment. A process still
 * running after `timeoutMs` is killed (code null): a hang is a failure, not a stuck test.
 */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, json: lastJson(stdout) });
    });
  });
}

function lastJson(stdout: string): Record<string, unknown> | undefined {
  for (const line of stdout.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      // not the summary
    }
  }
  return undefined;
}

/**
 * `lastmile ARGS` in a child process left to the caller (to kill -9 mid-run): its exit code
 * once it ends, and everything it printed so far, stdout and stderr together.
 */
export function spawnCli(args: string[], cwd: string) {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}
