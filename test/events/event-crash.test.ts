import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { EVENTS_TOKEN, READ_TOKEN, startServerFixture } from '../server/server-fixture.ts';
import { startServeChild } from './serve-child.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
const children: ChildProcess[] = [];
beforeAll(async () => {
  fx = await startServerFixture({ rows: 5, batchSize: 10 });
  await fx.server.close(); // the state folder is the child processes' from here on
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await fx?.close();
});


async function post(url: string, rows: unknown[]) {
  const response = await fetch(`${url}/api/syncs/prices_to_engine/events`, {
    method: 'POST', headers: { authorization: `Bearer ${EVENTS_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(rows),
  });
  return { status: response.status, json: await response.json() as { ids: string[] } };
}

const row = (n: number) => ({ sku: `SKU-${String(n).padStart(5, '0')}`, price: `${n}.25`, currency: 'EUR' });

describe('events survive kill -9', () => {
  it('delivers after a restart every event answered 202 before the process was killed', async () => {
    fx.api.state.unavailable = true; // the destination answers 503: accepted events wait in flight
    const first = await startServeChild(fx.configPath, fx.env, children);
    const a = await post(first.url, Array.from({ length: 30 }, (_, i) => row(100 + i)));
    const b = await post(first.url, Array.from({ length: 10 }, (_, i) => row(200 + i)));
    expect([a.status, b.status]).toEqual([202, 202]);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(fx.api.state.records.size).toBe(0);

    fx.api.state.unavailable = false;
    const second = await startServeChild(fx.configPath, fx.env, children);
    const ids = [...a.json.ids, ...b.json.ids];
    const until = Date.now() + 30_000;
    let pending = ids;
    while (pending.length && Date.now() < until) {
      const answers = await Promise.all(pending.map(async (id) => {
        const response = await fetch(`${second.url}/api/syncs/prices_to_engine/events/${id}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
        return { id, status: response.status === 200 ? ((await response.json()) as { status: string }).status : 'unknown' };
      }));
      expect(answers.filter((x) => x.status !== 'pending' && x.status !== 'delivered')).toEqual([]);
      pending = answers.filter((x) => x.status === 'pending').map((x) => x.id);
      if (pending.length) await new Promise((r) => setTimeout(r, 100));
    }
    expect(pending).toEqual([]);
    for (let i = 0; i < 30; i++) expect(fx.api.state.records.get(row(100 + i).sku)).toMatchObject({ amount: `${100 + i}.25` });
    for (let i = 0; i < 10; i++) expect(fx.api.state.records.has(row(200 + i).sku)).toBe(true);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
