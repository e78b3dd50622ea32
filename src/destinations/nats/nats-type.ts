import { z } from 'zod';
import type { DestinationType } from '../registry.ts';
import { NatsDestination } from './nats-destination.ts';

/**
 * NATS JetStream: one message per change (see change-message.ts for the body).
 * ```yaml
 * destinations:
 *   events: { type: nats, servers: nats://nats:4222, token: "${NATS_TOKEN}" }
 * syncs:
 *   prices_to_events: { …, destination: events, subject: "prices.{op}", stream: PRICES }
 * ```
 */
export const natsConnection = z.object({
  servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default('nats://127.0.0.1:4222'),
  token: z.string().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  /** How long to wait for a publish acknowledgement before the batch is retried. */
  ackTimeoutMs: z.number().int().positive().default(5_000),
});
export type NatsConnection = z.output<typeof natsConnection>;

/** Subject tokens: no spaces, no wildcards (`{op}` is replaced by the operation). */
const subject = z.string().min(1).refine(
  (text) => text.replaceAll('{op}', 'op').split('.').every((token) => /^[^\s*>]+$/.test(token)),
  'a subject is dot-separated tokens without spaces or wildcards, e.g. "prices.{op}"',
);

export const natsSyncOptions = z.object({
  subject,
  /** Created with the subject when missing; when absent, some existing stream must capture the subject. */
  stream: z.string().regex(/^[^\s.*>/\\]+$/, 'a stream name has no spaces, dots, wildcards or slashes').optional(),
});
export type NatsSyncOptions = z.output<typeof natsSyncOptions>;

export const natsDestinationType: DestinationType<NatsConnection, NatsSyncOptions> = {
  type: 'nats',
  connection: natsConnection,
  syncOptions: natsSyncOptions,
  secretSettings: ['token', 'password'],
  create: (init) => new NatsDestination(init),
};
