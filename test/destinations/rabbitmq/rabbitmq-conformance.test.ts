import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { describe } from 'vitest';
import type { ChangeMessage } from '../../../src/destinations/change-message.ts';
import { rabbitmqDestinationType } from '../../../src/destinations/rabbitmq/rabbitmq-type.ts';
import type { Value } from '../../../src/sources/source.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { createDestination, makeSync } from '../destination-test-kit.ts';

const up = await needService('rabbitmq');
const RUN = `${process.pid}_${Date.now().toString(36)}`;
const EXCHANGE = `lm_rmqconf.${RUN}`;
const QUEUE = `lm_rmqconf.${RUN}.q`;
const url = SERVICES.rabbitmq.url;

describe.skipIf(!up)('rabbitmq', () => {
  let session: { connection: ChannelModel; channel: Channel } | undefined;
  const channel = async () => {
    if (!session) {
      const connection = await amqp.connect(url);
      session = { connection, channel: await connection.createChannel() };
    }
    return session.channel;
  };
  // What a consumer of the queue holds after applying every message in order.
  const held = new Map<string, Record<string, Value>>();

  destinationConformance({
    name: 'rabbitmq',
    async create(mode) {
      return createDestination(rabbitmqDestinationType, { url }, makeSync('rmq_conf', mode, ['id'], ['id', 'name', 'amount'], { exchange: EXCHANGE, routingKey: 'items.{op}', queue: QUEUE }));
    },
    async read() {
      const ch = await channel();
      for (let m = await ch.get(QUEUE, { noAck: true }); m; m = await ch.get(QUEUE, { noAck: true })) {
        const { op, match, fields } = JSON.parse(m.content.toString()) as ChangeMessage;
        const id = String(match.id);
        if (op === 'delete') held.delete(id);
        else held.set(id, { ...(held.get(id) ?? {}), ...(fields as Record<string, Value>) });
      }
      return new Map(held);
    },
    // No badChange: the broker takes any message this suite could build (the limit is 128 MiB and up).
    async cleanup() {
      const ch = await channel();
      await ch.deleteQueue(QUEUE);
      await ch.deleteExchange(EXCHANGE);
      await session?.connection.close();
    },
  });
});
