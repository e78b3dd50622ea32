import { describe, expect, it } from 'vitest';
import { ArrivalLag } from '../../src/delivery/arrival-lag.ts';

/** Feeds round trips of these durations; answers the shift of each. */
function shifts(lag: ArrivalLag, durations: number[]): number[] {
  return durations.map((took) => lag.shift(1_000, 1_000 + took));
}

describe('where an answered request counts in the rate windows', () => {
  it('the first round trips count whole: they open connections, and no usual latency is known yet', () => {
    expect(shifts(new ArrivalLag(), [180, 100, 100, 100])).toEqual([180, 100, 100, 100]);
  });

  it('a long but steady round trip (a remote API) costs only the 10 ms slack, not its duration', () => {
    const lag = new ArrivalLag();
    shifts(lag, Array(8).fill(100));
    // Against a 1 s rate window: 10 ms of it lost per request's slot, not 100 (the rule before).
    expect(shifts(lag, [100, 102])).toEqual([10, 12]);
  });

  it('a round trip slower than usual may have arrived that much later: it moves by the difference', () => {
    const lag = new ArrivalLag();
    shifts(lag, Array(8).fill(100));
    expect(shifts(lag, [140])).toEqual([50]);
  });

  it('a round trip shorter than the slack moves to its answer, exactly', () => {
    const lag = new ArrivalLag();
    shifts(lag, Array(8).fill(3));
    expect(shifts(lag, [4])).toEqual([4]);
  });
});
