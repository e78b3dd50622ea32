import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { SyncConfig } from '../../config/project.ts';
import { encodeChange, messageId, withOp, MESSAGE_STREAM_CAPABILITIES } from '../change-message.ts';
import {
  OPERATIONS, type Capabilities, type Change, type Destination, type DestinationInit, type RecordResult, type WriteContext,
} from '../destination.ts';
import { LazyPromise } from '../lazy-promise.ts';
import { toSyncError } from './rabbitmq-errors.ts';
import type { RabbitmqConnection, RabbitmqSyncOptions } from './rabbitmq-type.ts';

interface Session {
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** Message ids the broker returned as unroutable (basic.return comes before their ack). */
  returned: Set<string>;
  /** Set when the channel or connection closed: what the broker said, if anything. */
  closed?: Error;
}

/**
 * Publishes one persistent message per change to an exchange, on a confirm channel: a change
 * is delivered when the broker confirms it. Messages are `mandatory`: one that no queue takes
 * comes back and is rejected rather than silently dropped. The `messageId` property is stable
 * for (sync, key, op, payload), so consumers can drop the duplicates a retry may send.
 */
export class RabbitmqDestination implements Destination {
  readonly type = 'rabbitmq';
  readonly name: string;
  readonly budgetKey: string;
  readonly capabilities: Capabilities = MESSAGE_STREAM_CAPABILITIES;
  private readonly url: string;
  private readonly options: RabbitmqSyncOptions;
  private readonly sync: SyncConfig;
  private readonly where: string;
  private readonly session = new LazyPromise<Session>();

  constructor(init: DestinationInit<RabbitmqConnection, RabbitmqSyncOptions>) {
    this.name = init.connection.name;
    this.url = init.connection.url;
    this.options = init.options;
    this.sync = init.sync;
    const url = new URL(this.url);
    // No credentials in the key or in messages: the URL holds the password.
    this.where = `${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'amqps:' ? 5671 : 5672)}${url.pathname.length > 1 ? url.pathname : '/'}`;
    this.budgetKey = `rabbitmq:${this.where}`;
  }

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.connected();
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const session = await this.connected();
    const { channel, returned } = session;
    // One round of publishes under one permit of the budget, until the broker confirmed them; each message is an API call.
    return ctx.request(async (call) => {
      const confirms: Promise<RecordResult>[] = [];
      try {
        for (const change of batch) {
          ctx.signal.throwIfAborted();
          const id = messageId(this.sync.name, change);
          const routingKey = withOp(this.options.routingKey, change.op);
          call();
          let ready = true;
          confirms.push(new Promise<RecordResult>((resolve) => {
            ready = channel.publish(this.options.exchange, routingKey, encodeChange(change), {
              persistent: true,
              mandatory: true,
              messageId: id,
              contentType: 'application/json',
              type: change.op,
              appId: 'lastmile',
            }, (err) => resolve(this.outcome(change.key, id, routingKey, returned, err)));
          }));
          if (!ready) await drained(channel);
        }
      } catch (error) {
        throw toSyncError(session.closed ?? error, this.prefix());
      }
      const results = await Promise.all(confirms);
      if (session.closed) {
        // Confirms were lost with the channel: re-send the batch (same message ids).
        throw toSyncError(session.closed, this.prefix());
      }
      return results;
    });
  }

  async close(): Promise<void> {
    const open = await this.session.take();
    if (open && !open.closed) await open.connection.close().catch(() => {});
  }

  private outcome(key: string, id: string, routingKey: string, returned: Set<string>, err: Error | null): RecordResult {
    if (returned.delete(id)) {
      return { key, outcome: 'rejected', rejection: {
        category: 'destination_error', code: 'NO_ROUTE', retryable: true,
        message: `no queue is bound to exchange "${this.options.exchange}" for routing key "${routingKey}": the broker returned the message; bind a queue or set \`queue\` on the sync`,
      } };
    }
    if (!err) return { key, outcome: 'delivered' };
    // A nack: the broker could not take the message (a full queue with reject-publish, an internal error).
    return { key, outcome: 'rejected', rejection: { category: 'destination_error', code: 'NACK', retryable: true, message: `the broker refused the message (${err.message})` } };
  }

  private connected(): Promise<Session> {
    return this.session.get(() => this.open());
  }

  /** Connects, opens a confirm channel and declares the exchange (and queue with its bindings). */
  private async open(): Promise<Session> {
    let connection: ChannelModel | undefined;
    try {
      connection = await amqp.connect(this.url, { clientProperties: { connection_name: `lastmile ${this.name}` } });
      const channel = await connection.createConfirmChannel();
      const session: Session = { connection, channel, returned: new Set() };
      const lost = (err?: Error) => {
        session.closed ??= err ?? new Error('the channel closed');
        this.session.forgetIf(session);
      };
      connection.on('error', (err: Error) => lost(err));
      connection.on('close', (err?: Error) => lost(err));
      channel.on('error', (err: Error) => lost(err));
      channel.on('close', () => lost());
      channel.on('return', (message) => {
        const id = message.properties.messageId;
        if (typeof id === 'string') session.returned.add(id);
      });
      await this.declare(channel);
      return session;
    } catch (error) {
      await connection?.close().catch(() => {});
      throw toSyncError(error, this.prefix());
    }
  }

  private async declare(channel: ConfirmChannel): Promise<void> {
    const { exchange, exchangeType, routingKey, queue } = this.options;
    if (exchange.startsWith('amq.')) await channel.checkExchange(exchange);
    else await channel.assertExchange(exchange, exchangeType, { durable: true });
    if (!queue) return;
    await channel.assertQueue(queue, { durable: true });
    const keys = exchangeType === 'topic'
      ? [routingKey.replaceAll('{op}', '*')]
      : exchangeType === 'direct' ? [...new Set(OPERATIONS.map((op) => withOp(routingKey, op)))] : [''];
    for (const key of keys) await channel.bindQueue(queue, exchange, key);
  }

  private prefix(): string {
    return `rabbitmq destination "${this.name}" (${this.where})`;
  }
}

/** Resolves when the channel can take more, or has closed (the caller then sees `closed`). */
function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}
