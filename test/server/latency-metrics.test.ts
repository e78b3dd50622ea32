import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startServerFixture } from './server-fixture.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
let run: any;

beforeAll(async () => {
  fx = await startServerFixture({
    rows: 300,
    alerts: false,
    // Every row's event happened 90 s before the run read it.
    extraModels: `  timed_prices:
    source: warehouse
    sql: SELECT sku, price, now()::TIMESTAMPTZ - INTERVAL 90 SECOND AS scraped_at FROM competitor_prices
    primaryKey: sku
    eventTime: scraped_at
    freshness: { column: scraped_at, maxAge: 1h }`,
    extraSyncs: `  timed_to_engine: { model: timed_prices, destination: pricing_engine, mode: upsert, match: { sku: id }, mapping: { price: amount } }`,
  });
  const started = await fx.call('POST', '/api/syncs/timed_to_engine/runs', ADMIN_TOKEN, {});
  run = await fx.waitForRun(started.json.runId);
});
afterAll(async () => { await fx?.close(); });

function metric(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(line + ' '));
  return found === undefined ? undefined : Number(found.split(' ').at(-1));
}

describe('freshness and latency in the API and /metrics', () => {
  it('the run summary carries the freshness and the latency of its rows', () => {
    expect(run.summary).toMatchObject({ status: 'success', delivered: 300, freshness: { column: 'scraped_at', stale: false }, latency: { rows: 300 } });
    expect(run.summary.freshness.ageMs).toBeGreaterThan(85_000); // now() is taken by DuckDB a moment after the run's clock
    expect(run.summary.latency.p50Ms).toBeGreaterThanOrEqual(90_000);
    expect(run.summary.latency.maxMs).toBeLessThan(90_000 + run.summary.durationMs + 1);
  });

  it('/metrics has a histogram of every delivered row\'s L and the age of the newest row', async () => {
    // The run reads as finished once the store has it; /metrics learns of it a moment later, as the server's listeners run.
    let text = '';
    await expect.poll(async () => {
      text = (await fx.call('GET', '/metrics', null)).text;
      return metric(text, 'lastmile_model_newest_row_age_seconds{sync="timed_to_engine"}');
    }, { timeout: 10_000, interval: 50 }).toBeDefined();
    expect(metric(text, 'lastmile_row_latency_seconds_count{sync="timed_to_engine"}')).toBe(300);
    expect(metric(text, 'lastmile_row_latency_seconds_bucket{le="60",sync="timed_to_engine"}')).toBe(0);
    // L is 90 s plus the run's own time: every row sits in the first bucket at or above the run's max L.
    const buckets = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];
    const le = buckets.find((b) => b >= run.summary.latency.maxMs / 1000)!;
    expect(metric(text, `lastmile_row_latency_seconds_bucket{le="${le}",sync="timed_to_engine"}`)).toBe(300);
    expect(metric(text, 'lastmile_model_newest_row_age_seconds{sync="timed_to_engine"}')).toBeCloseTo(run.summary.freshness.ageMs / 1000, 3);
  });
});
