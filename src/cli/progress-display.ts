import type { RunProgress } from '../engine/run-recorder.ts';
import { formatCount } from '../engine/trace-format.ts';

/**
 * One live status line on a terminal (stderr), redrawn at most 10 times a second:
 * `push  fetched 50,000 · to sync 1,842 · delivered 1,200 · rejected 3 · 850 rows/s`.
 * Off when stderr is not a terminal, so logs and CI output stay clean.
 */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): { update(p: RunProgress): void; done(): void } {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = 0;
  let shown = false;
  const draw = (p: RunProgress) => {
    const parts = [
      `fetched ${formatCount(p.fetched)}`, `to sync ${formatCount(p.toSync)}`,
      `delivered ${formatCount(p.delivered)}`, `rejected ${formatCount(p.rejected)}`,
    ];
    if (p.rowsPerSecond) parts.push(`${formatCount(p.rowsPerSecond)} rows/s`);
    stream.write(`\r\x1b[2K${p.phase.padEnd(8)} ${parts.join(' · ')}`);
    shown = true;
  };
  return {
    update(p) {
      const now = Date.now();
      if (now - last < 100 && p.phase === 'push') return;
      last = now;
      draw(p);
    },
    done() {
      if (shown) stream.write('\n');
    },
  };
}
