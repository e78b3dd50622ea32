import type { RecordResult } from '../destinations/destination.ts';

/**
 * How a record ended in one run. The destination answers delivered or rejected (RecordResult);
 * the engine adds deferred for rows it could not settle in this run (not isolated, a capped wait,
 * the circuit broken, the run stopped): state is left as it was, so the next run sends them.
 */
export type Outcome = RecordResult | { key: string; outcome: 'deferred'; reason: string };
