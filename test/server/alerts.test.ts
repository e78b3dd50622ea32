import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { emptySummary, type RunSummary } from '../../src/state/run-record.ts';
import { Alerter } from '../../src/server/alerts.ts';
import type { AlertConfig } from '../../src/config/project.ts';
import { redact } from '../../src/config/redact.ts';

/** A receiver like a webhook endpoint: records each POST; /fail answers 500 once, then 200. */
let server: http.Server;
let base = '';
const received: { path: string; body: any; contentType?: string }[] = [];
let failOnce = true;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/fail' && failOnce) {
        failOnce = false;
        res.writeHead(500).end('{"error":"boom"}');
        return;
      }
      if (req.url === '/gone') {
        res.writeHead(404).end();
        return;
      }
      received.push({ path: req.url!, body: JSON.parse(Buffer.concat(chunks).toString()), contentType: req.headers['content-type'] });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function summary(patch: Partial<RunSummary>): RunSummary {
  return { ...emptySummary('prices_to_engine', 'run-1', '2026-03-02T10:00:00.000Z'), status: 'success', durationMs: 14_200, fetched: 14_205, delivered: 1_830, apiCalls: 5, ...patch };
}

function alerter(alerts: AlertConfig[], secrets: string[] = []) {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(chunk.toString()); cb(); } }));
  return { alerter: new Alerter({ alerts, log, redact: (t) => redact(t, secrets), timeoutMs: 2000 }), lines };
}

describe('alerts', () => {
  it('a stale model sets off a stale alert; an L p95 over the threshold a latency alert, and only then', async () => {
    received.length = 0;
    const { alerter: a } = alerter([
      { type: 'webhook', url: `${base}/stale`, on: ['stale'] },
      { type: 'slack', url: `${base}/slow`, on: ['latency'], latencyP95: 600_000 },
    ]);
    const stale = { column: 'scraped_at', newestAt: '2026-03-02T07:00:00.000Z', ageMs: 3 * 3_600_000, maxAgeMs: 2 * 3_600_000, stale: true };
    await a.notify(summary({ status: 'failed', error: 'stale_data: model "prices" is stale', freshness: stale }), { rejectedByCategory: {} });
    expect(received.map((r) => r.path)).toEqual(['/stale']);
    expect(received[0]!.body).toMatchObject({ event: 'run.stale', summary: { freshness: { stale: true, ageMs: 10_800_000 } } });

    received.length = 0;
    const latency = (p95Ms: number) => ({ p50Ms: 60_000, p95Ms, maxMs: p95Ms + 1, rows: 10, warehouseLoad: { p50Ms: 0, p95Ms: 0, maxMs: 0 }, sync: { p50Ms: 0, p95Ms: 0, maxMs: 0 } });
    await a.notify(summary({ latency: latency(600_000), freshness: { ...stale, ageMs: 60_000, stale: false } }), { rejectedByCategory: {} });
    expect(received).toEqual([]); // at the threshold, fresh: nothing
    await a.notify(summary({ latency: latency(720_000) }), { rejectedByCategory: {} });
    expect(received.map((r) => r.path)).toEqual(['/slow']);
    expect(received[0]!.body.text).toBe('Lastmile sync prices_to_engine: end-to-end latency p95 12 min (p50 1 min, max 12 min)');
  });

  it('posts the run summary to a webhook when a run fails, with the secret in its error redacted', async () => {
    received.length = 0;
    const { alerter: a } = alerter([{ type: 'webhook', url: `${base}/hook`, on: ['failed'] }], ['s3cr3t-pricing-token']);
    await a.notify(summary({ status: 'failed', error: 'destination "pricing": 401 for token s3cr3t-pricing-token' }), { rejectedByCategory: {}, runUrl: 'http://127.0.0.1:8080/#/runs/run-1' });
    expect(received).toHaveLength(1);
    const [hit] = received;
    expect(hit!.path).toBe('/hook');
    expect(hit!.contentType).toBe('application/json');
    expect(hit!.body).toMatchObject({ event: 'run.failed', sync: 'prices_to_engine', runId: 'run-1', url: 'http://127.0.0.1:8080/#/runs/run-1' });
    expect(hit!.body.summary).toMatchObject({ status: 'failed', fetched: 14_205, delivered: 1_830 });
    expect(hit!.body.summary.error).toBe('destination "pricing": 401 for token ***');
    expect(JSON.stringify(hit!.body)).not.toContain('s3cr3t-pricing-token');
  });

  it('sends nothing for a successful run, nor below the rejected threshold', async () => {
    received.length = 0;
    const { alerter: a } = alerter([{ type: 'webhook', url: `${base}/hook`, on: ['failed', 'rejected'], rejectedThreshold: 10 }]);
    await a.notify(summary({}), { rejectedByCategory: {} });
    await a.notify(summary({ status: 'partial', rejected: 9 }), { rejectedByCategory: { schema_mismatch: 9 } });
    await a.notify(summary({ status: 'failed', dryRun: true }), { rejectedByCategory: {} });
    expect(received).toHaveLength(0);
  });

  it('alerts when the rejected count reaches the threshold: webhook JSON and a Slack message', async () => {
    received.length = 0;
    const { alerter: a } = alerter([
      { type: 'webhook', url: `${base}/hook`, on: ['rejected'], rejectedThreshold: 10 },
      { type: 'slack', url: `${base}/slack`, on: ['failed', 'rejected'], rejectedThreshold: 10 },
    ]);
    await a.notify(summary({ status: 'partial', rejected: 12 }), { rejectedByCategory: { schema_mismatch: 9, missing_identifier: 3 }, runUrl: 'http://ui/#/runs/run-1' });
    const hook = received.find((r) => r.path === '/hook')!;
    expect(hook.body).toMatchObject({ event: 'run.rejected', rejectedByCategory: { schema_mismatch: 9, missing_identifier: 3 } });
    expect(hook.body.summary.rejected).toBe(12);

    const slack = received.find((r) => r.path === '/slack')!.body;
    expect(slack.text).toBe('Lastmile sync prices_to_engine rejected 12 rows');
    expect(Array.isArray(slack.blocks)).toBe(true);
    for (const block of slack.blocks) expect(['section', 'actions']).toContain(block.type);
    const text = JSON.stringify(slack.blocks);
    expect(text).toContain('schema_mismatch: 9, missing_identifier: 3');
    expect(text).toContain('*Delivered:* 1,830');
    expect(slack.blocks.at(-1)).toMatchObject({ type: 'actions', elements: [{ type: 'button', url: 'http://ui/#/runs/run-1' }] });
  });

  it('a Slack alert for a failure carries the error', async () => {
    received.length = 0;
    const { alerter: a } = alerter([{ type: 'slack', url: `${base}/slack`, on: ['failed'] }]);
    await a.notify(summary({ status: 'failed', error: 'source "warehouse": table competitor_prices does not exist' }), { rejectedByCategory: {} });
    expect(received[0]!.body.text).toBe('Lastmile sync prices_to_engine failed: source "warehouse": table competitor_prices does not exist');
    expect(JSON.stringify(received[0]!.body.blocks)).toContain('*Error:* source \\"warehouse\\"');
  });

  it('retries once after a 5xx; logs a refused or unreachable receiver without throwing or logging its URL', async () => {
    received.length = 0;
    const { alerter: a, lines } = alerter([
      { type: 'webhook', url: `${base}/fail`, on: ['failed'] },
      { type: 'webhook', url: `${base}/gone`, on: ['failed'] },
      { type: 'slack', url: 'http://127.0.0.1:9/T000/B000/XXXX', on: ['failed'] },
    ], ['T000/B000/XXXX']);
    await a.notify(summary({ status: 'failed', error: 'x' }), { rejectedByCategory: {} });
    expect(received.map((r) => r.path)).toEqual(['/fail']);
    const log = lines.join('');
    expect(log).toContain('alert 1 (webhook) was refused with HTTP 404');
    expect(log).toContain('alert 2 (slack) could not be delivered');
    expect(log).not.toContain('T000/B000/XXXX');
  });
});
