/**
 * `npm run bench [-- NAME…]`: runs every bench/*.bench.ts (or the named ones) and prints one
 * Markdown table per result, ready to paste into README. LASTMILE_BENCH_QUICK=1 for short runs.
 */
import os from 'node:os';
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface BenchTable {
  title: string;
  rows: Record<string, string | number>[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts') && (wanted.length === 0 || wanted.some((w) => f.startsWith(w))));

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
for (const file of files.sort()) {
  const module = (await import(path.join(here, file))) as { default: () => Promise<BenchTable[]> };
  for (const table of await module.default()) console.log(markdown(table) + '\n');
}

function markdown({ title, rows }: BenchTable): string {
  if (rows.length === 0) return `### ${title}\n(no rows)`;
  const columns = Object.keys(rows[0]);
  const cell = (v: string | number | undefined) => (typeof v === 'number' ? v.toLocaleString('en-US') : v ?? '');
  return [
    `### ${title}`,
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${columns.map((c) => cell(row[c])).join(' | ')} |`),
  ].join('\n');
}
