import type { TraceLine } from '../state/run-record.ts';

export const TRACE_STEPS = { 1: 'query warehouse', 2: 'diff against state', 3: 'push', 4: 'finalize' } as const;

/** A step's label; step 1 names the source the run read (`query shop_db`), `warehouse` when unknown. */
export function traceStepLabel(step: TraceLine['step'], source?: string): string {
  return step === 1 && source ? `query ${source}` : TRACE_STEPS[step];
}

/** Renders a run's trace as PRODUCT.md shows it: `// 1. query warehouse     records_fetched: 14,205`. */
export function formatTrace(lines: TraceLine[], source?: string): string {
  const out: string[] = [];
  let step = 0;
  for (const line of lines) {
    const label = line.step === step ? '' : `${line.step}. ${traceStepLabel(line.step, source)}`;
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

/** An age or a wait, to the unit a person reads: `850 ms`, `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}
