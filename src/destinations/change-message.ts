import { createHash } from 'node:crypto';
import type { Value } from '../sources/source.ts';
import type { Capabilities, Change, Operation } from './destination.ts';

/**
 * One change as a message on a stream (NATS JetStream, RabbitMQ). The body is JSON:
 *
 *   { "op": "upsert", "key": "A-1", "match": { "sku": "A-1" }, "fields": { "sku": "A-1", "price": 12.5 } }
 *
 * - op:     insert | update | upsert | delete (what the sync's mode asks for this row)
 * - key:    the model's primary key as text (composite keys: a JSON array, as text)
 * - match:  the destination identifier field(s) and their values
 * - fields: the mapped payload, match fields included; {} for a delete
 *
 * Values are JSON values, except: integers beyond 2^53 are decimal strings ("9007199254740993"),
 * bytes are base64 strings. Decimals are already strings with every digit.
 */
export interface ChangeMessage {
  op: Operation;
  key: string;
  match: Record<string, unknown>;
  fields: Record<string, unknown>;
}

export function changeMessage(change: Change): ChangeMessage {
  return { op: change.op, key: change.key, match: jsonRecord(change.match), fields: jsonRecord(change.fields) };
}

export function encodeChange(change: Change): Buffer {
  return Buffer.from(JSON.stringify(changeMessage(change)));
}

/**
 * A stable id for the message: the same sync sending the same operation with the same
 * payload for the same key gets the same id, so a re-send after a lost acknowledgement is
 * recognised (JetStream drops it within its duplicate window; RabbitMQ consumers can).
 * Any change to the payload gives a new id. It does not depend on the engine's
 * fingerprints, only on what is sent. Note: a value that goes A -> B -> A within the
 * duplicate window sends A twice with one id, and JetStream keeps only the first.
 */
export function messageId(sync: string, change: Change): string {
  const message = changeMessage(change);
  const hash = createHash('sha256')
    .update(JSON.stringify([sync, message.key, message.op, canonical(message.match), canonical(message.fields)]))
    .digest('hex');
  return `lm-${hash.slice(0, 40)}`;
}

/** `prices.{op}` -> `prices.upsert`. */
export function withOp(template: string, op: Operation): string {
  return template.replaceAll('{op}', op);
}

function jsonRecord(record: Record<string, Value>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) if (value !== undefined) out[name] = jsonValue(value);
  return out;
}

function jsonValue(value: Value): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === 'object') return jsonRecord(value);
  return value;
}

/** JSON text with object keys sorted at every depth: the same payload always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Message streams take every operation as a message, one result per message acknowledged. A
 * retry after a lost acknowledgement re-sends the same message id (see messageId): JetStream
 * drops the repeat within its duplicate window, RabbitMQ consumers can.
 */
export const MESSAGE_STREAM_CAPABILITIES: Capabilities = {
  operations: ['insert', 'update', 'upsert', 'delete'],
  maxBatchSize: 500,
  rateLimit: { concurrency: 4 },
  perRecordResults: true,
  retrySafe: ['insert', 'update', 'upsert', 'delete'],
};
