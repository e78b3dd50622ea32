import { connect, type NatsConnection } from 'nats';
import { describe } from 'vitest';
import type { ChangeMessage } from '../../../src/destinations/change-message.ts';
import { natsDestinationType } from '../../../src/destinations/nats/nats-type.ts';
import type { Value } from '../../../src/sources/source.ts';
import { destinationConformance } from '../../conformance/destination-conformance.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { createDestination, makeSync } from '../destination-test-kit.ts';

const up = await needService('nats');
const RUN = `${process.pid}_${Date.now().toString(36)}`;
const STREAM = `LM_NATSCONF_${RUN}`;
const servers = SERVICES.nats.url;

/** What a consumer of the stream holds after applying every message in order. */
function materialize(messages: ChangeMessage[]): Map<string, Record<string, Value>> {
  const held = new Map<string, Record<string, Value>>();
  for (const { op, match, fields } of messages) {
    const id = String(match.id);
    if (op === 'delete') held.delete(id);
    else held.set(id, { ...(held.get(id) ?? {}), ...(fields as Record<string, Value>) });
  }
  return held;
}

describe.skipIf(!up)('nats', () => {
  let nc: NatsConnection | undefined;
  const client = async () => (nc ??= await connect({ servers }));

  destinationConformance({
    name: 'nats (JetStream)',
    async create(mode) {
      return createDestination(natsDestinationType, { servers }, makeSync('nats_conf', mode, ['id'], ['id', 'name', 'amount'], { subject: `lm_natsconf.${RUN}.{op}`, stream: STREAM }));
    },
    async read() {
      const c = await client();
      const count = (await (await c.jetstreamManager()).streams.info(STREAM)).state.messages;
      const messages: ChangeMessage[] = [];
      if (count) {
        for await (const m of await (await c.jetstream().consumers.get(STREAM)).fetch({ max_messages: count, expires: 2_000 })) {
          messages.push(m.json<ChangeMessage>());
          if (messages.length === count) break;
        }
      }
      return materialize(messages);
    },
    // Over the server's max_payload (1 MiB by default): refused before it is sent.
    badChange: () => ({ key: 'bad', op: 'upsert', match: { id: 'lm-conf-bad' }, fields: { id: 'lm-conf-bad', name: 'x'.repeat(2 * 1024 * 1024), amount: 1 } }),
    async cleanup() {
      const c = await client();
      await (await c.jetstreamManager()).streams.delete(STREAM).catch(() => false);
      await c.close();
    },
  });
});
