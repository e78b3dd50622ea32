import amqp, { type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageId } from '../../../src/destinations/change-message.ts';
import type { Destination } from '../../../src/destinations/destination.ts';
import { rabbitmqDestinationType } from '../../../src/destinations/rabbitmq/rabbitmq-type.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { change, createDestination, makeSync, outcomes, recordingContext, thrown } from '../destination-test-kit.ts';

const up = await needService('rabbitmq');
const RUN = `${process.pid}_${Date.now().toString(36)}`;
const url = SERVICES.rabbitmq.url;

describe.skipIf(!up)('rabbitmq destination', () => {
  let connection: ChannelModel;
  let channel: Channel;
  const opened: Destination[] = [];
  const exchanges = new Set<string>();
  const queues = new Set<string>();
  const names = (name: string) => {
    const exchange = `lm_rmqdst.${name}.${RUN}`;
    const queue = `lm_rmqdst.${name}.${RUN}.q`;
    exchanges.add(exchange);
    queues.add(queue);
    return { exchange, queue };
  };
  const open = (options: Record<string, unknown>, connectionSettings: Record<string, unknown> = { url }) => {
    const destination = createDestination(rabbitmqDestinationType, connectionSettings, makeSync('prices_to_bus', 'mirror', ['sku'], ['sku', 'price'], options));
    opened.push(destination);
    return destination;
  };

  /** Every message waiting in the queue, acknowledged as read. */
  async function drain(queue: string): Promise<GetMessage[]> {
    const messages: GetMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) return messages;
      messages.push(message);
    }
  }

  beforeAll(async () => {
    connection = await amqp.connect(url);
    channel = await connection.createChannel();
  });
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.close()));
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    await connection.close();
  });

  it('declares exchange and queue, publishes one persistent message per change, delivered on confirm', async () => {
    const { exchange, queue } = names('main');
    const dest = open({ exchange, routingKey: 'prices.{op}', queue });
    await dest.check(new AbortController().signal);
    const batch = [
      change('upsert', 'A', ['sku'], { sku: 'A', price: '12.50' }),
      change('upsert', 'B', ['sku'], { sku: 'B', price: new Uint8Array([1, 2, 3]) }),
      change('delete', 'C', ['sku'], { sku: 'C' }),
    ];
    const ctx = recordingContext();
    expect(outcomes(await dest.write(batch, ctx))).toEqual({ A: 'delivered', B: 'delivered', C: 'delivered' });
    expect(ctx.apiCalls).toBe(3);
    const messages = await drain(queue);
    expect(messages.map((m) => ({
      routingKey: m.fields.routingKey, body: JSON.parse(m.content.toString()),
      persistent: m.properties.deliveryMode, messageId: m.properties.messageId, contentType: m.properties.contentType, type: m.properties.type,
    }))).toEqual([
      { routingKey: 'prices.upsert', body: { op: 'upsert', key: 'A', match: { sku: 'A' }, fields: { sku: 'A', price: '12.50' } }, persistent: 2, messageId: messageId('prices_to_bus', batch[0]!), contentType: 'application/json', type: 'upsert' },
      { routingKey: 'prices.upsert', body: { op: 'upsert', key: 'B', match: { sku: 'B' }, fields: { sku: 'B', price: 'AQID' } }, persistent: 2, messageId: messageId('prices_to_bus', batch[1]!), contentType: 'application/json', type: 'upsert' },
      { routingKey: 'prices.delete', body: { op: 'delete', key: 'C', match: { sku: 'C' }, fields: {} }, persistent: 2, messageId: messageId('prices_to_bus', batch[2]!), contentType: 'application/json', type: 'delete' },
    ]);
    const declared = await channel.checkQueue(queue);
    expect(declared.messageCount).toBe(0);
  });

  it('a re-sent batch carries the same message ids, so consumers can drop the duplicates', async () => {
    const { exchange, queue } = names('resend');
    const dest = open({ exchange, routingKey: 'prices.{op}', queue });
    const batch = [change('upsert', 'A', ['sku'], { sku: 'A', price: 1 })];
    await dest.write(batch, recordingContext());
    await dest.write(batch, recordingContext());
    await dest.write([change('upsert', 'A', ['sku'], { sku: 'A', price: 2 })], recordingContext());
    const ids = (await drain(queue)).map((m) => m.properties.messageId);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('a message no queue takes comes back and is rejected, not lost', async () => {
    const { exchange } = names('unbound');
    const dest = open({ exchange, routingKey: 'prices.{op}' });
    const results = await dest.write([change('upsert', 'A', ['sku'], { sku: 'A', price: 1 })], recordingContext());
    expect(results).toEqual([{ key: 'A', outcome: 'rejected', rejection: expect.objectContaining({ category: 'destination_error', code: 'NO_ROUTE', retryable: true }) }]);
  });

  it('a direct exchange binds the queue once per operation', async () => {
    const { exchange, queue } = names('direct');
    const dest = open({ exchange, exchangeType: 'direct', routingKey: 'prices-{op}', queue });
    expect(outcomes(await dest.write([change('upsert', 'A', ['sku'], { sku: 'A' }), change('delete', 'B', ['sku'], { sku: 'B' })], recordingContext())))
      .toEqual({ A: 'delivered', B: 'delivered' });
    expect((await drain(queue)).map((m) => m.fields.routingKey)).toEqual(['prices-upsert', 'prices-delete']);
  });

  it('an exchange that exists with another type is a config error', async () => {
    const { exchange } = names('clash');
    await channel.assertExchange(exchange, 'fanout', { durable: true });
    const error = await thrown(() => open({ exchange, exchangeType: 'topic' }).check(new AbortController().signal));
    expect({ kind: error.kind, code: error.code }).toEqual({ kind: 'config', code: '406' });
  });

  describe('connection failures', () => {
    it('connection refused is transient', async () => {
      const { exchange } = names('refused');
      const dest = open({ exchange }, { url: 'amqp://guest:guest@127.0.0.1:1' });
      expect(dest.budgetKey).toBe('rabbitmq:amqp://127.0.0.1:1/');
      const error = await thrown(() => dest.write([change('upsert', 'A', ['sku'], { sku: 'A' })], recordingContext()));
      expect({ kind: error.kind, code: error.code }).toEqual({ kind: 'transient', code: 'ECONNREFUSED' });
    });

    it('a bad password or an unknown virtual host is a config error, and the password never shows', async () => {
      const { exchange } = names('auth');
      const auth = await thrown(() => open({ exchange }, { url: 'amqp://guest:s3cret-wrong@127.0.0.1:5672' }).check(new AbortController().signal));
      expect({ kind: auth.kind, code: auth.code }).toEqual({ kind: 'config', code: '403' });
      expect(auth.message).not.toContain('s3cret-wrong');
      const vhost = await thrown(() => open({ exchange }, { url: 'amqp://guest:guest@127.0.0.1:5672/lm_no_such_vhost' }).check(new AbortController().signal));
      expect(vhost.kind).toBe('config');
      expect(vhost.message).toContain('virtual host');
    });
  });
});
