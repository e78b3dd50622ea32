import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeProcess } from '../fakes/http/fake-http-process.ts';
import { needService, SERVICES } from '../helpers/services.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'redis-adaptive-child.ts');
const PREFIX = `lm-test-adaptive-${process.pid}`;
const LIMIT = 20;
const up = await needService('redis');

interface Learned { rate: number; estimate?: number; delivered: number }

/** A process delivering for `forMs` with nothing configured; `learned` answers once `readNow()` was called. */
function sender(endpoint: string, forMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, SERVICES.redis.url, PREFIX, endpoint, String(forMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onSent!: () => void;
  const sent = new Promise<void>((resolve) => (onSent = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('sent\n')) onSent();
  });
  const learned = new Promise<Learned>((resolve, reject) => {
    child.once('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`sender exited ${code}: ${out}`));
      else resolve(JSON.parse(last) as Learned);
    });
  });
  return { sent, learned, readNow: () => child.stdin.end('read\n') };
}

describe.skipIf(!up)('the adaptive rate search, shared by several processes in Redis', () => {
  afterAll(async () => {
    const redis = new Redis(SERVICES.redis.url);
    const keys = await redis.keys(`${PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('three processes against an endpoint allowing 20/s, nothing configured: one estimate, near the limit, held by all three', async () => {
    const endpoint = await startFakeProcess({ limit: { rate: LIMIT, burst: LIMIT, retryAfter: 'seconds' }, latencyMs: 30 });
    try {
      const senders = [1, 2, 3].map(() => sender(`${endpoint.url}/bulk`, 15_000));
      await Promise.all(senders.map((s) => s.sent));
      for (const s of senders) s.readNow();
      const learned = await Promise.all(senders.map((s) => s.learned));
      const log = (await endpoint.log()).filter((r) => r.method === 'POST');

      expect(log.filter((r) => r.status === 429).length).toBeGreaterThan(0); // the search met the limit
      for (const l of learned) expect(l.delivered).toBeGreaterThan(0);
      // one search for everybody: every process holds the same estimate and the same rate
      expect(new Set(learned.map((l) => l.estimate?.toFixed(6))).size).toBe(1);
      expect(new Set(learned.map((l) => l.rate.toFixed(6))).size).toBe(1);
      // of the whole limit, not a third of it each. The estimate counts the answers of the last
      // second as they arrive: the bucket's burst can add a few, and so can answers bunched by a
      // busy machine (CI once measured 26 of 20).
      expect(learned[0].estimate).toBeGreaterThan(LIMIT * 0.6);
      expect(learned[0].estimate).toBeLessThanOrEqual(LIMIT * 1.5);
      expect(learned[0].rate).toBeGreaterThan(LIMIT * 0.5);
      expect(learned[0].rate).toBeLessThanOrEqual(LIMIT * 1.5);
    } finally {
      await endpoint.stop();
    }
  }, 120_000);
});
