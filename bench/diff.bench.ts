/**
 * `plan` on a DuckDB model with 1 % changed, 0.5 % removed, 0.5 % added, against DuckDB
 * computing the same diff in plain SQL, measured side by side; and peak memory at 1M vs 10M rows.
 */
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BenchTable } from './run.ts';
import { mutateWarehouse, writeBenchProject, writeWarehouse } from './diff/bench-project.ts';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'diff', 'plan-child.ts');
const quick = process.env.LASTMILE_BENCH_QUICK === '1';

function runChild(mode: string, target: string): { ms: number; maxRssMB: number; counts?: Record<string, number> } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', child, mode, target], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

export default async function run(): Promise<BenchTable[]> {
  const sizes = quick ? [100_000, 1_000_000] : [1_000_000, 10_000_000];
  const rows: BenchTable['rows'] = [];
  for (const size of sizes) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-bench-diff-'));
    try {
      const config = await writeBenchProject(dir);
      const warehouse = path.join(dir, 'warehouse.duckdb');
      await writeWarehouse(warehouse, size);
      runChild('seed', config);
      runChild('baseline-seed', dir);
      await mutateWarehouse(warehouse, size);
      // Alternate the two, twice, and keep each one's best: the machine is noisy.
      const plans = [runChild('plan', config), runChild('plan', config)];
      const baselines = [runChild('baseline', dir), runChild('baseline', dir)];
      plans.push(runChild('plan', config));
      baselines.push(runChild('baseline', dir));
      const plan = plans.reduce((a, b) => (a.ms <= b.ms ? a : b));
      const baseline = baselines.reduce((a, b) => (a.ms <= b.ms ? a : b));
      const same = JSON.stringify(plan.counts) === JSON.stringify(baseline.counts);
      rows.push({
        rows: size,
        'plan (ms)': plan.ms,
        'DuckDB plain SQL (ms)': baseline.ms,
        'plan / DuckDB': (plan.ms / baseline.ms).toFixed(2),
        'plan peak RSS (MB)': Math.max(...plans.map((p) => p.maxRssMB)),
        'same counts': same ? 'yes' : `NO: ${JSON.stringify(plan.counts)} vs ${JSON.stringify(baseline.counts)}`,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const [small, large] = rows;
  const ratio = (Number(large['plan peak RSS (MB)']) / Number(small['plan peak RSS (MB)'])).toFixed(2);
  return [
    { title: 'plan vs DuckDB plain-SQL diff (1 % changed, 0.5 % removed, 0.5 % added)', rows },
    { title: 'memory', rows: [{ [`RSS at ${large.rows} / RSS at ${small.rows}`]: ratio, 'target': '≤ 1.3, and ≤ 600 MB at 10M' }] },
  ];
}
