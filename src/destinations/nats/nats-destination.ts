import { connect, headers as natsHeaders, type JetStreamClient, type JetStreamManager, type NatsConnection as NatsClient } from 'nats';
import type { SyncConfig } from '../../config/project.ts';
import { SyncError } from '../../errors.ts';
import { encodeChange, messageId, withOp, MESSAGE_STREAM_CAPABILITIES } from '../change-message.ts';
import type { Capabilities, Change, Destination, DestinationInit, RecordResult, WriteContext } from '../destination.ts';
import { LazyPromise } from '../lazy-promise.ts';
import { publishFailure, toSyncError } from './nats-errors.ts';
import type { NatsConnection, NatsSyncOptions } from './nats-type.ts';

interface Session {
  nc: NatsClient;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** JetStream API error codes (nats-server's errors.json). */
const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;

/**
 * Publishes one JetStream message per change, on `subject` with `{op}` replaced by the
 * operation. A change is delivered when its publish acknowledgement arrives. Each message
 * carries a Nats-Msg-Id stable for (sync, key, op, payload), so a batch re-sent after a lost
 * acknowledgement is dropped by JetStream instead of stored twice.
 */
export class NatsDestination implements Destination {
  readonly type = 'nats';
  readonly name: string;
  readonly budgetKey: string;
  readonly capabilities: Capabilities = MESSAGE_STREAM_CAPABILITIES;
  private readonly connection: NatsConnection;
  private readonly options: NatsSyncOptions;
  private readonly sync: SyncConfig;
  private readonly servers: string[];
  private readonly session = new LazyPromise<Session>();
  private readonly streamReady = new LazyPromise<void>();

  constructor(init: DestinationInit<NatsConnection, NatsSyncOptions>) {
    this.name = init.connection.name;
    this.connection = init.connection;
    this.options = init.options;
    this.sync = init.sync;
    this.servers = Array.isArray(init.connection.servers) ? init.connection.servers : [init.connection.servers];
    this.budgetKey = `nats:${this.servers.join(',')}`;
  }

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const { jsm } = await this.connected();
    if (this.options.stream) return this.ensureStream(jsm);
    const subject = withOp(this.options.subject, this.sync.mode === 'mirror' ? 'upsert' : this.sync.mode);
    try {
      await jsm.streams.find(subject);
    } catch (error) {
      throw new SyncError('config', `${this.prefix()}: no JetStream stream captures subject "${subject}": create one, or set \`stream\` on the sync to have it created`, { cause: error });
    }
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const { js, jsm } = await this.connected();
    await this.ensureStream(jsm);
    const timeout = this.connection.ackTimeoutMs;
    // One round of publishes under one permit of the budget; each message is an API call.
    const answers = await ctx.request((call) => Promise.allSettled(batch.map((change) => {
      call();
      const headers = natsHeaders();
      headers.set('Content-Type', 'application/json');
      headers.set('Lastmile-Op', change.op);
      return js.publish(withOp(this.options.subject, change.op), encodeChange(change), {
        msgID: messageId(this.sync.name, change), headers, timeout,
      });
    })));

    const results: RecordResult[] = [];
    let duplicates = 0;
    let stop: SyncError | undefined;
    answers.forEach((answer, i) => {
      const key = batch[i]!.key;
      if (answer.status === 'fulfilled') {
        if (answer.value.duplicate) duplicates++;
        results.push({ key, outcome: 'delivered' });
        return;
      }
      const failure = publishFailure(answer.reason, this.prefix(), this.options.subject);
      if (failure instanceof SyncError) {
        // config beats transient: one is fixed by a person, the other by waiting.
        if (!stop || (failure.kind === 'config' && stop.kind !== 'config')) stop = failure;
      } else {
        results.push({ key, outcome: 'rejected', rejection: failure });
      }
    });
    // A retry re-sends the whole batch: the ids make JetStream drop what it already stored.
    if (stop) throw stop;
    if (duplicates) ctx.trace(`${duplicates} of ${batch.length} messages were already in the stream (same Nats-Msg-Id): not stored twice`);
    return results;
  }

  async close(): Promise<void> {
    await (await this.session.take())?.nc.close();
  }

  private connected(): Promise<Session> {
    return this.session.get(() => this.open());
  }

  private async open(): Promise<Session> {
    let nc: NatsClient | undefined;
    try {
      nc = await connect({
        servers: this.servers,
        token: this.connection.token,
        user: this.connection.user,
        pass: this.connection.password,
        name: 'lastmile',
        timeout: 5_000,
      });
      const jsm = await nc.jetstreamManager();
      const session = { nc, js: nc.jetstream(), jsm };
      // Closed for good (reconnects exhausted): the next write connects again.
      void nc.closed().then(() => this.session.forgetIf(session));
      return session;
    } catch (error) {
      await nc?.close().catch(() => {});
      throw toSyncError(error, this.prefix());
    }
  }

  /** Creates the stream with the subject when missing; refuses a stream that does not capture it. */
  private ensureStream(jsm: JetStreamManager): Promise<void> {
    const stream = this.options.stream;
    if (!stream) return Promise.resolve();
    return this.streamReady.get(() => this.prepareStream(jsm, stream));
  }

  private async prepareStream(jsm: JetStreamManager, stream: string): Promise<void> {
    const pattern = this.options.subject.replaceAll('{op}', '*');
    try {
      const info = await jsm.streams.info(stream);
      if (!(info.config.subjects ?? []).some((filter) => covers(filter, pattern))) {
        throw new SyncError('config', `${this.prefix()}: stream "${stream}" does not capture subject "${pattern}" (it has ${JSON.stringify(info.config.subjects ?? [])}): add the subject to the stream, or name another stream`);
      }
    } catch (error) {
      if (apiErrorCode(error) !== STREAM_NOT_FOUND) throw toSyncError(error, this.prefix());
      try {
        await jsm.streams.add({ name: stream, subjects: [pattern] });
      } catch (addError) {
        if (apiErrorCode(addError) === STREAM_NAME_IN_USE) return this.prepareStream(jsm, stream); // created meanwhile
        throw toSyncError(addError, this.prefix());
      }
    }
  }

  private prefix(): string {
    return `nats destination "${this.name}" (${this.servers.join(', ')})`;
  }
}

function apiErrorCode(error: unknown): number | undefined {
  return (error as { api_error?: { err_code?: number } })?.api_error?.err_code;
}

/** Whether a stream's subject filter captures every subject of `subject` (which may hold `*`). */
export function covers(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
