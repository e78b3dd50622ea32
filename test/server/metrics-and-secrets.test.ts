import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, PRICING_TOKEN, READ_TOKEN, startServerFixture } from './server-fixture.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
const runs: Record<string, any> = {};

/** Runs a sync through the API and waits for its end. */
async function run(sync: string, body: object = {}) {
  const started = await fx.call('POST', `/api/syncs/${sync}/runs`, ADMIN_TOKEN, body);
  expect(started.status).toBe(202);
  return fx.waitForRun(started.json.runId);
}

beforeAll(async () => {
  fx = await startServerFixture();
  runs.partial = await run('prices_to_engine');
  runs.missingTable = await run('discontinued_to_engine');
  // The pricing API now refuses the token, and its error echoes the Authorization header back.
  fx.api.state.authFails = true;
  runs.unauthorized = await run('prices_to_engine', { fullResync: true });
  fx.api.state.authFails = false;
  // Let the alert POSTs of the last run land.
  for (let i = 0; i < 50 && fx.api.state.alerts.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
});
afterAll(async () => { await fx?.close(); });

function metric(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const labelText = line.slice(name.length).split(' ')[0]!;
    if (wanted.every((w) => labelText.includes(w))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('metrics', () => {
  it('the runs under test ended as expected', () => {
    expect(runs.partial.summary).toMatchObject({ status: 'partial', delivered: 1_490, rejected: 10 });
    expect(runs.missingTable.summary.status).toBe('failed');
    expect(runs.unauthorized.summary.status).toBe('failed');
  });

  it('counts runs by status, rows by outcome and category, API calls, and run durations', async () => {
    const { status, text, headers } = await fx.call('GET', '/metrics', null);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain/);
    expect(metric(text, 'lastmile_runs_total', { sync: 'prices_to_engine', status: 'partial' })).toBe(1);
    expect(metric(text, 'lastmile_runs_total', { sync: 'prices_to_engine', status: 'failed' })).toBe(1);
    expect(metric(text, 'lastmile_runs_total', { sync: 'discontinued_to_engine', status: 'failed' })).toBe(1);
    expect(metric(text, 'lastmile_rows_total', { sync: 'prices_to_engine', outcome: 'delivered' })).toBe(1_490);
    expect(metric(text, 'lastmile_rows_total', { sync: 'prices_to_engine', outcome: 'rejected' })).toBe(10);
    const [category] = Object.keys(runs.partial.rejectedByCategory);
    expect(metric(text, 'lastmile_rejected_rows_total', { sync: 'prices_to_engine', category: category! })).toBe(10);
    expect(metric(text, 'lastmile_api_calls_total', { sync: 'prices_to_engine' })).toBe(runs.partial.summary.apiCalls + runs.unauthorized.summary.apiCalls);
    expect(metric(text, 'lastmile_throttled_total', { sync: 'prices_to_engine' })).toBe(0);
    expect(metric(text, 'lastmile_run_duration_seconds_count', { sync: 'prices_to_engine', status: 'partial' })).toBe(1);
    expect(metric(text, 'lastmile_run_duration_seconds_sum', { sync: 'prices_to_engine', status: 'partial' })).toBeCloseTo(runs.partial.summary.durationMs / 1000, 2);
    expect(metric(text, 'lastmile_runs_in_progress', { sync: 'prices_to_engine' })).toBe(0);
  });

  it('alerted on the rejected rows and on each failure', () => {
    const events = fx.api.state.alerts.map((a: any) => `${a.event} ${a.sync}`).sort();
    expect(events).toEqual(['run.failed discontinued_to_engine', 'run.failed prices_to_engine', 'run.rejected prices_to_engine']);
  });
});

describe('secrets', () => {
  const SECRETS = { PRICING_TOKEN, READ_TOKEN, ADMIN_TOKEN };

  it('the destination did echo the secret back, so there was something to hide', () => {
    expect(runs.unauthorized.summary.error).toMatch(/401 Unauthorized: token not recognised: \*\*\*;/);
  });

  it('appear in no log line, no API answer and no alert', async () => {
    // Read everything a user could: every route, including the failed run's rejected rows and the OpenAPI document.
    for (const route of ['/api/syncs', '/api/syncs/prices_to_engine', '/api/syncs/prices_to_engine/runs', '/api/syncs/discontinued_to_engine/runs',
      `/api/runs/${runs.unauthorized.summary.runId}`, `/api/runs/${runs.partial.summary.runId}/rejected`, '/api/syncs/prices_to_engine/plan',
      '/openapi.json', '/metrics']) {
      expect((await fx.call('GET', route)).status, route).toBe(200);
    }
    await fx.call('GET', '/api/syncs', 'wrong-token-attempt');
    const logs = fx.logLines.join('');
    expect(fx.logLines.length).toBeGreaterThan(20);
    expect(logs).toContain("token not recognised: ***");
    const everything = { logs, answers: fx.answers.join('\n'), alerts: JSON.stringify(fx.api.state.alerts) };
    for (const [where, text] of Object.entries(everything)) {
      for (const [name, secret] of Object.entries(SECRETS)) {
        expect(text.includes(secret), `${name} found in ${where}`).toBe(false);
        expect(text.includes(secret.slice(4, 20)), `part of ${name} found in ${where}`).toBe(false);
      }
    }
  });

  it('logs are structured JSON with the run outcome', () => {
    const ended = fx.logLines.map((line) => JSON.parse(line)).filter((entry) => entry.run?.runId === runs.partial.summary.runId);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ level: 40, service: 'lastmile', run: { status: 'partial', delivered: 1_490, rejected: 10 } });
  });
});
