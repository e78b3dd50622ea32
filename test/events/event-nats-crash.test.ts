import type { ChildProcess } from 'node:child_process';
import { connect, StringCodec, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needService, SERVICES } from '../helpers/services.ts';
import { eventsSync, startServerFixture } from '../server/server-fixture.ts';
import { startServeChild } from './serve-child.ts';

const SUBJECT = `lastmile.test.crash${process.pid}.prices`;
const STREAM = `LASTMILE_TEST_CRASH_${process.pid}`;
const DURABLE = 'lastmile-events-prices_from_nats';
const NATS_SYNC = eventsSync('prices_from_nats', `maxWaitMs: 10, nats: { subject: ${SUBJECT}, stream: ${STREAM}, servers: ${SERVICES.nats.url} }`);
const up = await needService('nats');
let fx: Awaited<ReturnType<typeof startServerFixture>>;
let nc: NatsConnection;
const children: ChildProcess[] = [];


const row = (n: number) => ({ sku: `SKU-${String(n).padStart(5, '0')}`, price: `${n}.75`, currency: 'EUR' });

describe.skipIf(!up)('events from NATS survive kill -9', () => {
  beforeAll(async () => {
    nc = await connect({ servers: SERVICES.nats.url });
    await (await nc.jetstreamManager()).streams.delete(STREAM).catch(() => undefined);
    fx = await startServerFixture({ rows: 5, batchSize: 10, extraSyncs: NATS_SYNC });
    await fx.server.close(); // the state folder is the child processes' from here on
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await fx?.close();
    await (await nc?.jetstreamManager())?.streams.delete(STREAM).catch(() => undefined);
    await nc?.close();
  });

  it('delivers every message: those acknowledged before the kill from the journal, the rest from the stream', async () => {
    const js = nc.jetstream();
    const codec = StringCodec();
    const publish = async (from: number, to: number) => {
      for (let n = from; n < to; n += 2) await js.publish(SUBJECT, codec.encode(JSON.stringify([row(n), row(n + 1)])));
    };
    const consumer = async () => (await nc.jetstreamManager()).consumers.info(STREAM, DURABLE);

    fx.api.state.unavailable = true; // the destination answers 503: what is acknowledged waits in the journal
    const { child: first } = await startServeChild(fx.configPath, fx.env, children);
    await publish(0, 60);
    // Every message acknowledged, so taken by the journal: NATS will not deliver these again.
    await expect.poll(async () => { const c = await consumer(); return [c.num_pending, c.num_ack_pending]; }, { timeout: 15_000, interval: 50 }).toEqual([0, 0]);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(fx.api.state.records.size).toBe(0);

    await publish(60, 100); // while no server runs: they wait in the stream
    fx.api.state.unavailable = false;
    const { child: second } = await startServeChild(fx.configPath, fx.env, children);
    await expect.poll(() => fx.api.state.records.size, { timeout: 30_000, interval: 50 }).toBe(100);
    for (let n = 0; n < 100; n++) expect(fx.api.state.records.get(row(n).sku)).toMatchObject({ amount: `${n}.75` });
    await expect.poll(async () => { const c = await consumer(); return [c.num_pending, c.num_ack_pending]; }, { timeout: 15_000, interval: 50 }).toEqual([0, 0]);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
  }, 90_000);
});
