import { describe, expect, it } from 'vitest';
import { ARRIVAL_SLACK_MS, ArrivalLag } from '../../src/delivery/arrival-lag.ts';

/** Feeds round trips of these durations; answers the shift of each. */
function shifts(lag: ArrivalLag, durations: number[]): number[] {
  return durations.map((took) => lag.shift(1_000, 1_000 + took));
}

describe('where an answered request counts in the rate windows', () => {
  it('the first round trips count whole: they open connections, and no usual latency is known yet', () => {
    expect(shifts(new ArrivalLag(), [180, 100, 100, 100])).toEqual([180, 100, 100, 100]);
  });

  it('a long but steady round trip (a remote API) costs only the slack, not its duration', () => {
    const lag = new ArrivalLag();
    shifts(lag, Array(8).fill(100));
    expect(shifts(lag, [100, 102])).toEqual([ARRIVAL_SLACK_MS, 2 + ARRIVAL_SLACK_MS]);
  });

  it('a round trip slower than usual may have arrived that much later: it moves by the difference', () => {
    const lag = new ArrivalLag();
    shifts(lag, Array(8).fill(100));
    expect(shifts(lag, [140])).toEqual([40 + ARRIVAL_SLACK_MS]);
  });

  it('a round trip shorter than the slack moves to its answer, exactly', () => {
    const lag = new ArrivalLag();
    shifts(lag, Array(8).fill(3));
    expect(shifts(lag, [4])).toEqual([4]);
  });
});
