import type { RateLimitObservation, WriteContext } from '../../src/destinations/destination.ts';

/** A WriteContext for a destination tested alone: requests go at once, counted; what it reports is kept. */
export interface RecordingContext extends WriteContext {
  /** Permits the requests would take under a delivery. */
  requests: number;
  apiCalls: number;
  limits: RateLimitObservation[];
  traces: string[];
  statuses: number[];
}

export function recordingContext(signal = new AbortController().signal): RecordingContext {
  const ctx: RecordingContext = {
    signal, requests: 0, apiCalls: 0, limits: [], traces: [], statuses: [],
    async request(send) {
      ctx.requests++;
      let calls = 0;
      try {
        return await send(() => void calls++);
      } finally {
        ctx.apiCalls += Math.max(1, calls);
      }
    },
    // Alone, a destination may split as much as it needs; a delivery bounds it (test/delivery).
    splits: { takeSplit: () => true, found: () => {} },
    observeLimits: (observation) => void ctx.limits.push(observation),
    trace: (text) => void ctx.traces.push(text),
    status: (code) => void ctx.statuses.push(code),
  };
  return ctx;
}
