import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageId } from '../../../src/destinations/change-message.ts';
import type { Destination } from '../../../src/destinations/destination.ts';
import { covers } from '../../../src/destinations/nats/nats-destination.ts';
import { natsDestinationType } from '../../../src/destinations/nats/nats-type.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { change, createDestination, makeSync, outcomes, recordingContext, thrown } from '../destination-test-kit.ts';

const up = await needService('nats');
const RUN = `${process.pid}_${Date.now().toString(36)}`;
const servers = SERVICES.nats.url;

describe.skipIf(!up)('nats destination (JetStream)', () => {
  let nc: NatsConnection;
  const opened: Destination[] = [];
  const open = (options: Record<string, unknown>, connection: Record<string, unknown> = { servers }, mode: 'mirror' | 'upsert' = 'mirror') => {
    const destination = createDestination(natsDestinationType, connection, makeSync('prices_to_events', mode, ['sku'], ['sku', 'price'], options));
    opened.push(destination);
    return destination;
  };
  const streamName = (name: string) => `LM_NATSDST_${name}_${RUN}`;
  const subjectOf = (name: string) => `lm_natsdst.${RUN}.${name}.{op}`;

  async function readStream(stream: string) {
    const jsm = await nc.jetstreamManager();
    const count = (await jsm.streams.info(stream)).state.messages;
    const consumer = await nc.jetstream().consumers.get(stream);
    const out: { subject: string; body: unknown; id?: string; contentType?: string }[] = [];
    if (!count) return out;
    for await (const m of await consumer.fetch({ max_messages: count, expires: 2_000 })) {
      out.push({ subject: m.subject, body: m.json(), id: m.headers?.get('Nats-Msg-Id'), contentType: m.headers?.get('Content-Type') });
      if (out.length === count) break;
    }
    return out;
  }

  beforeAll(async () => {
    nc = await connect({ servers });
  });
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.close()));
    const jsm = await nc.jetstreamManager();
    for await (const info of jsm.streams.list()) {
      if (info.config.name.endsWith(RUN)) await jsm.streams.delete(info.config.name);
    }
    await nc.close();
  });

  it('creates the stream and publishes one message per change, delivered on its ack', async () => {
    const stream = streamName('main');
    const dest = open({ subject: subjectOf('main'), stream });
    await dest.check(new AbortController().signal);
    const batch = [
      change('upsert', 'A', ['sku'], { sku: 'A', price: '12.50' }),
      change('upsert', '["B",2]', ['sku'], { sku: 'B', price: 9007199254740993n }),
      change('delete', 'C', ['sku'], { sku: 'C' }),
    ];
    const ctx = recordingContext();
    expect(outcomes(await dest.write(batch, ctx))).toEqual({ A: 'delivered', '["B",2]': 'delivered', C: 'delivered' });
    expect(ctx.apiCalls).toBe(3);
    const info = await (await nc.jetstreamManager()).streams.info(stream);
    expect(info.config.subjects).toEqual([`lm_natsdst.${RUN}.main.*`]);
    const base = `lm_natsdst.${RUN}.main`;
    expect(await readStream(stream)).toEqual([
      { subject: `${base}.upsert`, body: { op: 'upsert', key: 'A', match: { sku: 'A' }, fields: { sku: 'A', price: '12.50' } }, id: messageId('prices_to_events', batch[0]!), contentType: 'application/json' },
      { subject: `${base}.upsert`, body: { op: 'upsert', key: '["B",2]', match: { sku: 'B' }, fields: { sku: 'B', price: '9007199254740993' } }, id: messageId('prices_to_events', batch[1]!), contentType: 'application/json' },
      { subject: `${base}.delete`, body: { op: 'delete', key: 'C', match: { sku: 'C' }, fields: {} }, id: messageId('prices_to_events', batch[2]!), contentType: 'application/json' },
    ]);
  });

  it('a re-sent batch is dropped by JetStream (same Nats-Msg-Id); a changed payload is a new message', async () => {
    const stream = streamName('dedupe');
    const dest = open({ subject: subjectOf('dedupe'), stream });
    const batch = [change('upsert', 'A', ['sku'], { sku: 'A', price: 1 }), change('upsert', 'B', ['sku'], { sku: 'B', price: 2 })];
    await dest.write(batch, recordingContext());
    const again = recordingContext();
    expect(outcomes(await dest.write(batch, again))).toEqual({ A: 'delivered', B: 'delivered' });
    expect(again.traces).toEqual(['2 of 2 messages were already in the stream (same Nats-Msg-Id): not stored twice']);
    const changed = change('upsert', 'A', ['sku'], { sku: 'A', price: 3 });
    await dest.write([changed], recordingContext());
    const messages = await readStream(stream);
    expect(messages.map((m) => (m.body as { fields: unknown }).fields)).toEqual([{ sku: 'A', price: 1 }, { sku: 'B', price: 2 }, { sku: 'A', price: 3 }]);
    expect(new Set(messages.map((m) => m.id)).size).toBe(3);
    // The id depends on what is sent, not on key order inside the payload.
    expect(messageId('s', change('upsert', 'A', ['sku'], { price: 1, sku: 'A' }))).toBe(messageId('s', batch[0]!));
  });

  it('a message over the server max_payload is rejected alone; the others arrive', async () => {
    const stream = streamName('big');
    const dest = open({ subject: subjectOf('big'), stream });
    const results = await dest.write([
      change('upsert', 'small', ['sku'], { sku: 'small', price: 1 }),
      change('upsert', 'huge', ['sku'], { sku: 'huge', price: 'x'.repeat(2 * 1024 * 1024) }),
    ], recordingContext());
    expect(outcomes(results)).toEqual({ small: 'delivered', huge: 'rejected:invalid_row' });
    expect((await readStream(stream)).map((m) => (m.body as { key: string }).key)).toEqual(['small']);
  });

  it('refuses an existing stream that does not capture the subject, and a subject no stream captures', async () => {
    const other = streamName('other');
    await (await nc.jetstreamManager()).streams.add({ name: other, subjects: [`lm_natsdst.${RUN}.elsewhere.>`] });
    const wrong = await thrown(() => open({ subject: subjectOf('mine'), stream: other }).write([change('upsert', 'A', ['sku'], { sku: 'A' })], recordingContext()));
    expect(wrong.kind).toBe('config');
    expect(wrong.message).toContain(`does not capture subject "lm_natsdst.${RUN}.mine.*"`);
    const orphan = open({ subject: subjectOf('orphan') }, { servers }, 'upsert');
    expect((await thrown(() => orphan.check(new AbortController().signal))).kind).toBe('config');
    const sent = await thrown(() => orphan.write([change('upsert', 'A', ['sku'], { sku: 'A' })], recordingContext()));
    expect({ kind: sent.kind, code: sent.code }).toEqual({ kind: 'config', code: '503' });
  });

  it('covers(): stream subject filters with * and >', () => {
    expect(covers('a.*', 'a.*')).toBe(true);
    expect(covers('a.>', 'a.b.*')).toBe(true);
    expect(covers('a.b', 'a.*')).toBe(false);
    expect(covers('a.*.c', 'a.b.*')).toBe(false);
    expect(covers('>', 'a')).toBe(true);
  });

  it('rejects subjects with spaces or wildcards in the config', () => {
    expect(natsDestinationType.syncOptions.safeParse({ subject: 'prices.{op}' }).success).toBe(true);
    expect(natsDestinationType.syncOptions.safeParse({ subject: 'prices.*' }).success).toBe(false);
    expect(natsDestinationType.syncOptions.safeParse({ subject: 'my prices' }).success).toBe(false);
  });

  describe('connection failures', () => {
    it('connection refused is transient', async () => {
      const dest = open({ subject: subjectOf('x'), stream: streamName('x') }, { servers: 'nats://127.0.0.1:1' });
      const error = await thrown(() => dest.write([change('upsert', 'A', ['sku'], { sku: 'A' })], recordingContext()));
      expect({ kind: error.kind, code: error.code }).toEqual({ kind: 'transient', code: 'CONNECTION_REFUSED' });
    });

    it('a bad password is a config error, and the password never shows', async () => {
      const port = await freePort();
      // A server of our own with a password (the shared one has none), on a free local port.
      const binary = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
      const server = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '--user', 'lm', '--pass', 'right-one'], { stdio: 'ignore' });
      server.on('error', () => {}); // a missing binary shows as "did not listen" below
      try {
        await waitForPort(port);
        const dest = open({ subject: subjectOf('auth') }, { servers: `nats://127.0.0.1:${port}`, user: 'lm', password: 's3cret-wrong' });
        const error = await thrown(() => dest.check(new AbortController().signal));
        expect({ kind: error.kind, code: error.code }).toEqual({ kind: 'config', code: 'AUTHORIZATION_VIOLATION' });
        expect(error.message).not.toContain('s3cret-wrong');
      } finally {
        server.kill();
      }
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
  throw new Error(`nats-server did not listen on ${port}`);
}
