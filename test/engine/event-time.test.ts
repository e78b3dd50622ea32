import { describe, expect, it } from 'vitest';
import { epochMsOf } from '../../src/engine/event-time.ts';
import { formatTimestamp } from '../../src/sources/canonical-values.ts';

describe('epochMsOf', () => {
  it('reads the workspace timestamp text to the same millisecond as Date.parse, over centuries', () => {
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < 2_000; i++) {
      const micros = Math.round((next() * 2 - 0.5) * 4e15); // about 1906 to 2160, to the microsecond
      const text = formatTimestamp(micros, true);
      expect(epochMsOf(text), text).toBe(Date.parse(text));
      expect(epochMsOf(text), text).toBe(Math.floor(micros / 1000));
    }
  });

  it('reads other shapes and zones as Date.parse does, and a timestamp without a zone as UTC', () => {
    expect(epochMsOf('2026-12-02T03:17:24.5+02:00')).toBe(Date.parse('2026-12-02T01:17:24.500Z'));
    expect(epochMsOf('2026-12-02 03:17:24')).toBe(Date.parse('2026-12-02T03:17:24Z'));
    expect(epochMsOf('2026-12-02')).toBe(Date.UTC(2026, 11, 2));
    expect(epochMsOf('0050-01-01T00:00:00.000000Z')).toBe(Date.parse('0050-01-01T00:00:00.000000Z'));
    expect(epochMsOf('2026-02-31T00:00:00.000000Z')).toBe(Date.parse('2026-02-31T00:00:00.000000Z'));
  });

  it('gives no time for text that is not one, even in the workspace shape', () => {
    expect(epochMsOf('2026-13-02T03:17:24.123456Z')).toBeUndefined();
    expect(epochMsOf('2026-12-02T03:17:24.12345xZ')).toBeUndefined();
    expect(epochMsOf('not a time')).toBeUndefined();
    expect(epochMsOf(null)).toBeUndefined();
  });

  it('reads numbers as epoch seconds, or milliseconds when too large for seconds', () => {
    expect(epochMsOf(1_764_645_444)).toBe(1_764_645_444_000);
    expect(epochMsOf(1_764_645_444_123)).toBe(1_764_645_444_123);
  });
});
