import type { ModelConfig } from '../config/project.ts';
import type { Diff } from '../diff/diff.ts';
import type { RunFreshness } from '../state/run-record.ts';
import { epochMsOf } from './event-time.ts';
import { measureFreshness } from './freshness.ts';

/** What `plan` says of a model's timeliness: its freshness, and the end-to-end latency a run now would reach. */
export interface PlanTimeliness {
  freshness?: RunFreshness;
  /** Estimated L of the newest row = its age now + T (the estimated sync duration). */
  latency?: { column: string; newestAgeMs: number | null; syncMs: number; estimatedMs: number | null };
}

export async function planTimeliness(diff: Diff, model: ModelConfig, estimatedSeconds: number, signal: AbortSignal): Promise<PlanTimeliness> {
  const now = Date.now();
  const freshness = await measureFreshness(diff, model, signal, now);
  const column = model.eventTime ?? model.freshness?.column;
  if (!column) return {};
  const newestAgeMs = column === freshness?.column ? freshness.ageMs : ageOf(epochMsOf(await diff.newest(column, signal)), now);
  const syncMs = Math.round(estimatedSeconds * 1000);
  return {
    ...(freshness && { freshness }),
    latency: { column, newestAgeMs, syncMs, estimatedMs: newestAgeMs === null ? null : newestAgeMs + syncMs },
  };
}

function ageOf(ms: number | undefined, now: number): number | null {
  return ms === undefined ? null : Math.max(0, now - ms);
}
