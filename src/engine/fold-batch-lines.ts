import type { TraceLine } from '../state/run-record.ts';

/** `batch 12: 200 OK [100]`, `batch 3.1.2: 200 OK [25]`: a batch the destination took whole. */
const PLAIN_BATCH = /^batch [\d.]+: 200 OK \[\d+\]$/;
const BATCH = /^batch [\d.]+: /;

/**
 * A long push, folded: the first and last batch lines, every batch line that is not a plain
 * 200 (a 429, a split, a refusal), and the rest as `… 97 more batches: 200 OK`.
 * Other lines are kept as they are.
 */
export function foldBatchLines(lines: TraceLine[]): TraceLine[] {
  const batches = lines.map((line, i) => (line.step === 3 && BATCH.test(line.text) ? i : -1)).filter((i) => i >= 0);
  if (batches.length <= 3) return lines;
  const first = batches[0]!;
  const last = batches.at(-1)!;
  const out: TraceLine[] = [];
  let folded = 0;
  let foldedAt: TraceLine | undefined;
  const flush = () => {
    if (folded) out.push({ at: foldedAt!.at, step: 3, text: `… ${folded} more ${folded === 1 ? 'batch' : 'batches'}: 200 OK (runs show --all-batches lists them)` });
    folded = 0;
  };
  lines.forEach((line, i) => {
    if (i !== first && i !== last && line.step === 3 && PLAIN_BATCH.test(line.text)) {
      foldedAt ??= line;
      folded++;
      return;
    }
    flush();
    foldedAt = undefined;
    out.push(line);
  });
  flush();
  return out;
}
