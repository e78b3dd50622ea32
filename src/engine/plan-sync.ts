import type { Row } from '../sources/source.ts';
import { openDiffSession, type DiffSession } from './diff-session.ts';
import { resolveSync, type ResolvedSync } from './resolve-sync.ts';
import { sentCount, type RunEnv } from './run-sync.ts';
import { formatCount } from './trace-format.ts';
import { planTimeliness, type PlanTimeliness } from './plan-freshness.ts';

/** What a run would do now: PRODUCT.md's `lastmile plan`. Nothing is written anywhere. */
export interface Plan {
  sync: string;
  mode: string;
  /** Where the diff ran: workspace, warehouse or engine. */
  diff: string;
  fetched: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  invalid: number;
  /** Rows a run would send (depends on the mode: insert sends only added rows). */
  toSync: number;
  incremental: boolean;
  samples: { added: Row[]; changed: Row[]; removed: Row[] };
  /** Requests per second and rows per request the estimate assumes. */
  requestsPerSecond: number;
  batchSize: number;
  ratePerSecond: number;
  estimatedSeconds: number;
  /** A database table takes batches as statements in transactions: no API requests, no rate limit to talk about. */
  delivery: 'requests' | 'statements';
  notes: string[];
  /** With a model's freshness: age of its newest row. With an event time: estimated L = that age + T. */
  freshness?: PlanTimeliness['freshness'];
  latency?: PlanTimeliness['latency'];
}

/** Destinations that write to a database table rather than call an API. */
const TABLE_DESTINATIONS = new Set(['postgres', 'mysql']);

/** Requests per second assumed when neither the config nor the destination states a limit. */
const ASSUMED_REQUESTS_PER_SECOND = 10;
const SAMPLE_SIZE = 5;

/**
 * DuckDB memory of a plan's workspace: half a run's cap (runs keep LASTMILE_MEMORY_LIMIT, 256MB
 * by default). A plan writes no state, so it needs less, and the server may run two at once.
 */
export const PLAN_MEMORY_LIMIT = process.env.LASTMILE_PLAN_MEMORY_LIMIT ?? '128MB';

export async function planSync(env: RunEnv, syncName: string, options: { signal?: AbortSignal; memoryLimit?: string } = {}): Promise<Plan> {
  const resolved = resolveSync(env.project, syncName);
  const signal = options.signal ?? new AbortController().signal;
  const session = await openDiffSession(env.project, env.store, resolved, { signal, memoryLimit: options.memoryLimit ?? PLAN_MEMORY_LIMIT });
  try {
    const { counts } = session.diff;
    const toSync = sentCount(session, resolved);
    const { requestsPerSecond, batchSize, note } = deliveryRate(session, resolved);
    const ratePerSecond = requestsPerSecond * batchSize;
    const estimatedSeconds = toSync === 0 ? 0 : Math.ceil(toSync / batchSize) / requestsPerSecond;
    const delivery = TABLE_DESTINATIONS.has(resolved.destinationConfig.type) ? 'statements' : 'requests';
    const notes = [delivery === 'requests' ? note : ''];
    if (session.diff.incremental) notes.push(`cursor mode: only rows past the last run's ${resolved.model.cursor} were read; removed rows are not detected`);
    if (counts.invalid) notes.push(`${formatCount(counts.invalid)} rows have a null or duplicated primary key and would be rejected as invalid_row`);
    return {
      sync: syncName, mode: resolved.sync.mode, diff: session.diff.method, ...counts, toSync, incremental: session.diff.incremental,
      samples: await samples(session, signal),
      requestsPerSecond, batchSize, ratePerSecond,
      estimatedSeconds,
      delivery,
      notes: notes.filter(Boolean),
      ...(await planTimeliness(session.diff, resolved.model, estimatedSeconds, signal)),
    };
  } finally {
    await session.close();
  }
}

function deliveryRate(session: DiffSession, resolved: ResolvedSync): { requestsPerSecond: number; batchSize: number; note: string } {
  const { capabilities } = session.destination;
  const configured = resolved.destinationConfig.rateLimit?.requestsPerSecond;
  const declared = capabilities.rateLimit?.requestsPerSecond;
  const batchSize = Math.min(resolved.destinationConfig.batch?.size ?? capabilities.maxBatchSize, capabilities.maxBatchSize);
  if (configured) return { requestsPerSecond: configured, batchSize, note: '' };
  if (declared) return { requestsPerSecond: declared, batchSize, note: `rate: the destination's documented ${declared} requests/s` };
  return {
    requestsPerSecond: ASSUMED_REQUESTS_PER_SECOND, batchSize,
    note: `no rate limit configured: the estimate assumes ${ASSUMED_REQUESTS_PER_SECOND} requests/s; the run adapts to what the destination allows`,
  };
}

async function samples(session: DiffSession, signal: AbortSignal): Promise<Plan['samples']> {
  const out: Plan['samples'] = { added: [], changed: [], removed: [] };
  for (const { kind, key, row, previous } of await session.diff.sample(SAMPLE_SIZE, signal)) {
    if (kind === 'removed') {
      out.removed.push({ key, ...previous?.match });
      continue;
    }
    if (row === null) continue;
    const mapped = session.mapper.map(row);
    out[kind].push(mapped.ok ? { key, ...mapped.value.fields } : { key, rejected: mapped.rejection.message });
  }
  return out;
}
