import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, StringCodec, type NatsConnection } from 'nats';
import { needService, SERVICES } from '../helpers/services.ts';
import { eventsSync, startServerFixture } from '../server/server-fixture.ts';

const SUBJECT = `lastmile.test.events${process.pid}.prices`;
const STREAM = `LASTMILE_TEST_EVENTS_${process.pid}`;
const NATS_SYNC = eventsSync('prices_from_nats', `maxWaitMs: 10, nats: { subject: ${SUBJECT}, stream: ${STREAM}, servers: ${SERVICES.nats.url} }`);
const up = await needService('nats');
let fx: Awaited<ReturnType<typeof startServerFixture>>;
let nc: NatsConnection;

describe.skipIf(!up)('events from a NATS JetStream subject', () => {
  beforeAll(async () => {
    nc = await connect({ servers: SERVICES.nats.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(STREAM).catch(() => undefined); // a clean stream and consumer for every run
    fx = await startServerFixture({ rows: 5, extraSyncs: NATS_SYNC });
  });
  afterAll(async () => {
    await fx?.close();
    await (await nc?.jetstreamManager())?.streams.delete(STREAM).catch(() => undefined);
    await nc?.close();
  });

  it('delivers rows published on the subject, acknowledging each message, and terminates a message that is not rows of the model', async () => {
    const js = nc.jetstream();
    const codec = StringCodec();
    await js.publish(SUBJECT, codec.encode(JSON.stringify({ sku: 'SKU-00700', price: '7.00', currency: 'EUR' })));
    await js.publish(SUBJECT, codec.encode(JSON.stringify([{ sku: 'SKU-00701', price: '7.01', currency: 'EUR' }, { sku: 'SKU-00702', price: '7.02', currency: 'EUR' }])));
    await js.publish(SUBJECT, codec.encode(JSON.stringify({ sku: 'SKU-00703', colour: 'red' })));
    const until = Date.now() + 15_000;
    while (fx.api.state.records.size < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(fx.api.state.records.get('SKU-00700')).toMatchObject({ amount: '7.00' });
    expect(fx.api.state.records.get('SKU-00702')).toMatchObject({ amount: '7.02' });
    const warnings = () => fx.logLines.map((line) => JSON.parse(line).msg as string);
    while (!warnings().some((m) => m.includes('NATS message 3')) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(warnings()).toContainEqual(expect.stringContaining(`NATS message 3 on "${SUBJECT}" was refused: event 1 of 1: unknown column "colour"`));
    const consumer = await (await nc.jetstreamManager()).consumers.info(STREAM, 'lastmile-events-prices_from_nats');
    expect(consumer).toMatchObject({ num_pending: 0, num_ack_pending: 0, num_redelivered: 0 });
  });
});
