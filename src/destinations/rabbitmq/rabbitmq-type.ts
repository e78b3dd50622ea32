import { z } from 'zod';
import { serverUrl } from '../../config/url-setting.ts';
import type { DestinationType } from '../registry.ts';
import { RabbitmqDestination } from './rabbitmq-destination.ts';

/**
 * RabbitMQ (AMQP 0-9-1): one persistent message per change (see change-message.ts for the body).
 * ```yaml
 * destinations:
 *   bus: { type: rabbitmq, url: "amqp://lastmile:${RABBIT_PASSWORD}@rabbit:5672/prod" }
 * syncs:
 *   prices_to_bus: { …, destination: bus, exchange: pricing, routingKey: "prices.{op}", queue: pricing-updates }
 * ```
 */
export const rabbitmqConnection = z.object({
  url: serverUrl('amqp'),
});
export type RabbitmqConnection = z.output<typeof rabbitmqConnection>;

export const rabbitmqSyncOptions = z.object({
  /** Declared (durable) when missing; `amq.*` exchanges are only checked. */
  exchange: z.string().min(1),
  exchangeType: z.enum(['topic', 'direct', 'fanout', 'headers']).default('topic'),
  /** `{op}` is replaced by the operation: `prices.{op}` -> `prices.upsert`. */
  routingKey: z.string().default('{op}'),
  /** Declared (durable) and bound to the exchange for this sync's routing keys. */
  queue: z.string().min(1).optional(),
});
export type RabbitmqSyncOptions = z.output<typeof rabbitmqSyncOptions>;

export const rabbitmqDestinationType: DestinationType<RabbitmqConnection, RabbitmqSyncOptions> = {
  type: 'rabbitmq',
  connection: rabbitmqConnection,
  syncOptions: rabbitmqSyncOptions,
  // The URL holds the password.
  secretSettings: ['url'],
  create: (init) => new RabbitmqDestination(init),
};
