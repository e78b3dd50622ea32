import { afterEach, describe, expect, it } from 'vitest';
import { openStateStore } from '../../src/state/open-state-store.ts';
import { loadProject } from '../../src/config/load-project.ts';
import { emptySummary, type RunSummary } from '../../src/state/run-record.ts';
import { ADMIN_TOKEN, startServerFixture } from './server-fixture.ts';

const syncTo = (name: string, extra: string) => `  ${name}:
    model: competitor_prices
    destination: pricing_engine
    mode: upsert
    match: { sku: id }
    mapping: { price: amount }
${extra}`;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('lastmile serve: the scheduler', () => {
  it('runs an `every: 1s` sync on schedule without overlaps, and its `after` dependant once it succeeds', async () => {
    const fx = await startServerFixture({
      rows: 20, alerts: false,
      extraSyncs: syncTo('quick_prices', '    schedule: { every: 1s }\n') + syncTo('after_quick', '    after: [quick_prices]\n'),
    });
    cleanup.push(() => fx.close());
    const runsOf = async (sync: string): Promise<RunSummary[]> => (await fx.call('GET', `/api/syncs/${sync}/runs`)).json.runs;

    const quick = await until('three scheduled runs of quick_prices', async () => {
      const runs = (await runsOf('quick_prices')).filter((r) => r.status !== 'running');
      return runs.length >= 3 ? runs.reverse() : undefined;
    });
    const detail = await fx.call('GET', `/api/runs/${quick[0]!.runId}`);
    expect(detail.json.profile.trigger).toBe('schedule');
    expect(quick[0]).toMatchObject({ status: 'success', delivered: 20 });
    for (let i = 1; i < quick.length; i++) {
      // Never overlapping, and about a second apart (start to start).
      expect(Date.parse(quick[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(quick[i - 1]!.finishedAt!));
      expect(Date.parse(quick[i]!.startedAt) - Date.parse(quick[i - 1]!.startedAt)).toBeGreaterThanOrEqual(990);
    }

    const after = await until('a run of after_quick', async () => {
      const runs = (await runsOf('after_quick')).filter((r) => r.status !== 'running');
      return runs.length >= 1 ? runs.reverse() : undefined;
    });
    expect(Date.parse(after[0]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(quick[0]!.finishedAt!));
    expect(after[0]!.status).toBe('success');
    const overview = (await fx.call('GET', '/api/syncs/after_quick')).json;
    expect(overview).toMatchObject({ schedule: null, after: ['quick_prices'], nextRunAt: null });
  });

  it('after a restart, catches up a missed run once, then waits a full interval', async () => {
    const fx = await startServerFixture({ rows: 20, alerts: false, extraSyncs: syncTo('hourly_prices', '    schedule: { every: 1h }\n') });
    cleanup.push(() => fx.close());
    const first = (await fx.call('GET', '/api/syncs/hourly_prices')).json;
    expect(Math.abs(Date.parse(first.nextRunAt) - (Date.now() + 3_600_000))).toBeLessThan(60_000);
    await fx.server.close();

    // The server was down for hours: the last run in the store started three hours ago.
    const project = await loadProject(fx.configPath, { PRICING_TOKEN: 'x', READ_TOKEN: 'y', EVENTS_TOKEN: 'z' });
    const store = await openStateStore(project.state);
    const startedAt = new Date(Date.now() - 3 * 3_600_000).toISOString();
    await store.saveRun({
      summary: { ...emptySummary('hourly_prices', 'run-before-restart', startedAt), status: 'success', finishedAt: startedAt, durationMs: 1000 },
      profile: { model: 'competitor_prices', source: 'warehouse', sourceType: 'duckdb', destination: 'pricing_engine', destinationType: 'http', mode: 'upsert', syncModeLabel: 'Incremental (Upsert)', trigger: 'schedule' },
    });
    await store.close();

    const restarted = await fx.start({ ui: false });
    cleanup.push(() => restarted.close());
    const call = async (route: string) => (await fetch(restarted.url + route, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();
    const runs = await until('the catch-up run', async () => {
      const list: RunSummary[] = (await call('/api/syncs/hourly_prices/runs')).runs;
      return list.length >= 2 && list[0]!.status !== 'running' ? list : undefined;
    });
    expect(runs[1]!.runId).toBe('run-before-restart');
    expect(runs[0]).toMatchObject({ status: 'success', delivered: 20 });
    // Not a burst: one run for three missed hours, and the next one an hour after it.
    await new Promise((r) => setTimeout(r, 1500));
    const later: RunSummary[] = (await call('/api/syncs/hourly_prices/runs')).runs;
    expect(later).toHaveLength(2);
    const overview = await call('/api/syncs/hourly_prices');
    expect(Date.parse(overview.nextRunAt) - Date.parse(runs[0]!.startedAt)).toBe(3_600_000);
  });
});
