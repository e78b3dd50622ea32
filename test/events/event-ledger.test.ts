import { describe, expect, it } from 'vitest';
import { EventLedger } from '../../src/events/event-ledger.ts';

const delivered = (n: number) => ({ id: `e${n}`, key: `K${n}`, status: 'delivered' as const, settledAt: 1_000 + n, acceptedAt: n });

describe('the events ledger', () => {
  it('answers for the latest 100,000 events, forgets older ones, and counts every one', () => {
    const ledger = new EventLedger();
    for (let n = 0; n < 250_000; n++) ledger.settled(delivered(n));
    expect(ledger.outcome('e149999')).toBeUndefined();
    expect(ledger.outcome('e150000')).toMatchObject({ key: 'K150000', status: 'delivered' });
    expect(ledger.outcome('e249999')).toMatchObject({ key: 'K249999', status: 'delivered' });
    expect(ledger.summary().counts.delivered).toBe(250_000);
  });

  it('an event settled twice (replayed after a crash) keeps one place and its newest outcome', () => {
    const ledger = new EventLedger();
    ledger.settled(delivered(1));
    ledger.settled({ ...delivered(1), status: 'unchanged' });
    for (let n = 2; n <= 100_000; n++) ledger.settled(delivered(n));
    expect(ledger.outcome('e1')).toMatchObject({ status: 'unchanged' });
    ledger.settled(delivered(100_001));
    expect(ledger.outcome('e1')).toBeUndefined();
    expect(ledger.outcome('e2')).toBeDefined();
  });
});
