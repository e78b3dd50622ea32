import { AckPolicy, connect, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import type { EventsConfig } from '../config/project.ts';
import { EventInputError, EventQueueFullError } from './event-errors.ts';
import type { EventPipeline } from './event-pipeline.ts';

/** Messages handed over at once, and accepted but not yet acknowledged at most. */
const MAX_MESSAGES = 256;
const MAX_ACK_PENDING = 1_000;

export interface NatsEventInputInit {
  sync: string;
  nats: NonNullable<EventsConfig['nats']>;
  pipeline: EventPipeline;
  warn(message: string): void;
}

/**
 * A sync's second event input: a JetStream subject read by a durable consumer. Each message (one
 * row, or an array of rows, as JSON) goes through the pipeline's accept(); it is acknowledged
 * only once its rows are journaled on disk, so a crash before that has JetStream deliver it
 * again. A message that is not rows of the model is terminated (never redelivered) with a
 * warning; a full queue asks JetStream to redeliver after the Retry-After.
 */
export class NatsEventInput {
  private constructor(private readonly nc: NatsConnection, private readonly messages: ConsumerMessages, private readonly done: Promise<void>) {}

  static async start(init: NatsEventInputInit): Promise<NatsEventInput> {
    const { nats, sync } = init;
    const nc = await connect({ servers: nats.servers, name: `lastmile-events-${sync}`, timeout: 5_000 });
    try {
      const jsm = await nc.jetstreamManager();
      const stream = nats.stream ?? streamNameFor(sync);
      const found = await jsm.streams.find(nats.subject).catch(() => undefined);
      const streamName = found ?? stream;
      if (!found) await jsm.streams.add({ name: stream, subjects: [nats.subject] });
      const durable = nats.durable ?? `lastmile-events-${sync}`;
      await jsm.consumers.add(streamName, {
        durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: nats.subject, max_ack_pending: MAX_ACK_PENDING, ack_wait: 30_000_000_000,
      });
      const consumer = await nc.jetstream().consumers.get(streamName, durable);
      const messages = await consumer.consume({ max_messages: MAX_MESSAGES });
      const done = (async () => {
        for await (const message of messages) void take(message, init);
      })();
      return new NatsEventInput(nc, messages, done);
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.messages.close().catch(() => undefined);
    await this.done.catch(() => undefined);
    await this.nc.drain().catch(() => undefined);
  }
}

async function take(message: JsMsg, { pipeline, sync, warn }: NatsEventInputInit): Promise<void> {
  let body: unknown;
  try {
    body = message.json();
  } catch {
    warn(`sync "${sync}": NATS message ${message.seq} on "${message.subject}" is not JSON; it was dropped from the consumer (terminated)`);
    message.term();
    return;
  }
  try {
    await pipeline.accept(Array.isArray(body) ? body : [body]);
    message.ack();
  } catch (error) {
    if (error instanceof EventInputError) {
      warn(`sync "${sync}": NATS message ${message.seq} on "${message.subject}" was refused: ${error.message}; it was dropped from the consumer (terminated)`);
      message.term();
    } else if (error instanceof EventQueueFullError) {
      message.nak(error.retryAfterSeconds * 1000);
    } else {
      // Not journaled (a disk error): JetStream delivers it again.
      warn(`sync "${sync}": NATS message ${message.seq} could not be journaled (${(error as Error).message}); it will be delivered again`);
      message.nak(1_000);
    }
  }
}

function streamNameFor(sync: string): string {
  return `LASTMILE_EVENTS_${sync.replace(/[^A-Za-z0-9_-]/g, '_').toUpperCase()}`;
}
