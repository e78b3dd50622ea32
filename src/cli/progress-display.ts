import type { RunProgress } from '../engine/run-recorder.ts';
import { progressLine } from './progress-line.ts';

/**
 * One live status line on a terminal (stderr), redrawn at most 10 times a second (see
 * progress-line.ts), cut to the terminal's width so it never wraps. Off when stderr is not a
 * terminal, so logs and CI output stay clean.
 */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): { update(p: RunProgress): void; done(): void } {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = 0;
  let shown = false;
  let phase = '';
  let latest: RunProgress | undefined;
  const draw = (p: RunProgress) => {
    const width = Math.max(20, (stream.columns || 100) - 1);
    stream.write(`\r\x1b[2K${progressLine(p).slice(0, width)}`);
    shown = true;
  };
  return {
    update(p) {
      latest = p;
      const now = Date.now();
      // A new phase is always drawn; within one, at most every 100 ms.
      if (now - last < 100 && p.phase === phase) return;
      last = now;
      phase = p.phase;
      draw(p);
    },
    done() {
      if (latest && shown) draw(latest); // the last counts, which the 100 ms limit may have skipped
      if (shown) stream.write('\n');
    },
  };
}
