import type { TraceLine } from '../state/run-record.ts';

export const TRACE_STEPS = { 1: 'query warehouse', 2: 'diff against state', 3: 'push', 4: 'finalize' } as const;

/** Renders a run's trace as PRODUCT.md shows it: `// 1. query warehouse     records_fetched: 14,205`. */
export function formatTrace(lines: TraceLine[]): string {
  const out: string[] = [];
  let step = 0;
  for (const line of lines) {
    const label = line.step === step ? '' : `${line.step}. ${TRACE_STEPS[line.step]}`;
    step = line.step;
    out.push(`// ${label.padEnd(22)} ${line.text}`);
  }
  return out.join('\n');
}

/** 14205 -> "14,205": exact numbers, readable. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
