import { randomUUID } from 'node:crypto';
import type { Project } from '../config/project.ts';
import type { Destination } from '../destinations/destination.ts';
import type { Outcome } from '../delivery/outcome.ts';
import { checkDestination } from '../delivery/check-destination.ts';
import { deliver, emptyStats } from '../delivery/deliver.ts';
import { SyncError } from '../errors.ts';
import { createDestination, type ResolvedSync } from '../engine/resolve-sync.ts';
import { stateUpdateFor, type PendingChange } from '../engine/state-update.ts';
import { keyOfRow } from '../diff/fingerprint/fingerprint-v1.ts';
import type { RowState, RowStateUpdate, StateStore } from '../state/state-store.ts';
import { EventJournal, type AcceptedEvent, type SettledEvent } from './event-journal.ts';
import { checkEventRow } from './event-row.ts';
import { learnEventModel, type EventModel } from './event-model.ts';
import { compareOrder, orderValueOf } from './event-order.ts';
import { readiness, takeBatch, type QueuedEvent } from './event-batch.ts';
import { EventLedger } from './event-ledger.ts';
import { EventInputError, EventQueueFullError } from './event-errors.ts';
import { sortEvents, type EventToSend, type LocalSettle } from './sort-events.ts';

export interface EventPipelineInit {
  project: Project;
  store: StateStore;
  resolved: ResolvedSync;
  journalPath: string;
  /** Warnings (a delivery stopped and will be tried again). */
  warn?(message: string): void;
  /** An event reached the destination `ms` after it was accepted. */
  onDelivered?(sync: string, ms: number): void;
}

/** Deferred events are tried again after this long (or the destination's Retry-After). */
const RETRY_MS = 1_000;

/**
 * The low-latency path of one sync: rows pushed one by one go through the sync's own mapping,
 * coercion, fingerprint (recipe v1), rate budget and state, as a run's rows do.
 * accept() journals the rows durably before it resolves (their delivery starts meanwhile); a
 * micro-batch leaves at once when no batch is out, else when it holds the destination's batch
 * size or its oldest event has waited `maxWaitMs` (so batches grow only while the destination is
 * busy); state moves forward only for what the destination acknowledged, and each event ends in
 * the ledger.
 */
export class EventPipeline {
  readonly ledger = new EventLedger();
  private waiting: QueuedEvent[] = [];
  private readonly inFlight = new Set<string>();
  /** Accepted (or being journaled) and not settled: what the bounded queue counts. */
  private held = 0;
  private readonly live = new Map<string, AcceptedEvent>();
  private readonly marks: Map<string, unknown>;
  private rowState = new Map<string, RowState>();
  private batches = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly abort = new AbortController();
  private readonly idleWaiters: (() => void)[] = [];

  private constructor(
    private readonly init: EventPipelineInit,
    private readonly journal: EventJournal,
    private readonly destination: Destination,
    private readonly model: EventModel,
    marks: Map<string, unknown>,
  ) {
    this.marks = marks;
  }

  static async open(init: EventPipelineInit): Promise<EventPipeline> {
    const signal = AbortSignal.timeout(60_000);
    const destination = createDestination(init.project, init.resolved);
    try {
      const model = await learnEventModel(init.project, init.resolved, destination, signal);
      await checkDestination(destination, init.resolved.destinationConfig.rateLimit, signal);
      const { journal, contents } = await EventJournal.open(init.journalPath);
      const pipeline = new EventPipeline(init, journal, destination, model, contents.marks);
      for (const settled of contents.settled) pipeline.ledger.settled(settled);
      await pipeline.refreshState();
      // Accepted before a crash and never settled: delivered now (an unchanged fingerprint sends nothing twice).
      for (const event of contents.pending) pipeline.enqueue(event, checkEventRow(event.row, model));
      pipeline.kick();
      return pipeline;
    } catch (error) {
      await destination.close();
      throw error;
    }
  }

  private get sync() { return this.init.resolved.sync; }
  private get batchSize() { return Math.max(1, Math.min(this.init.resolved.destinationConfig.batch?.size ?? this.destination.capabilities.maxBatchSize, this.destination.capabilities.maxBatchSize)); }
  private get settings() { return { maxWaitMs: this.sync.events?.maxWaitMs ?? 50, queueSize: this.sync.events?.queueSize ?? 10_000, orderBy: this.sync.events?.orderBy }; }
  /** Batches in flight at once: what the credential's concurrency allows, else two (one filling while one is sent). */
  private get maxBatches() { return this.init.resolved.destinationConfig.rateLimit?.concurrency ?? this.destination.capabilities.rateLimit?.concurrency ?? 2; }

  /** Reads the sync's row state again (after a warehouse run moved it). */
  async refreshState(): Promise<void> {
    const next = new Map<string, RowState>();
    for await (const chunk of this.init.store.readRowState(this.sync.name, { chunkSize: 10_000 })) for (const row of chunk) next.set(row.key, row);
    this.rowState = next;
  }

  /**
   * Takes `rows` whole or not at all: each is checked against the model, queued and journaled.
   * Resolves with their ids once they are on disk.
   */
  async accept(rows: unknown[], now = Date.now()): Promise<string[]> {
    const { queueSize } = this.settings;
    if (rows.length > queueSize) throw new EventInputError(`${rows.length} events in one request; send at most ${queueSize} (events.queueSize)`);
    const events: { event: AcceptedEvent; check: ReturnType<typeof checkEventRow> }[] = [];
    for (const [index, row] of rows.entries()) {
      const check = checkEventRow(row, this.model);
      if (!check.ok) throw new EventInputError(`event ${index + 1} of ${rows.length}: ${check.message}`);
      const key = keyOfRow(this.model.primaryKey.map((name) => this.model.columns.find((c) => c.name === name)!), check.row)!;
      events.push({ event: { id: randomUUID(), key, acceptedAt: now, row: row as Record<string, unknown> }, check });
    }
    if (this.held + rows.length > queueSize) {
      throw new EventQueueFullError(this.retryAfterSeconds(), `sync "${this.sync.name}": ${this.held} events wait for destination "${this.destination.name}" (events.queueSize ${queueSize}); nothing of this request was taken, send it again after the Retry-After`);
    }
    this.held += events.length;
    for (const { event } of events) this.live.set(event.id, event);
    // Delivery need not wait for the disk: the caller hears 202 only once the journal holds the
    // rows, and a row delivered but never acknowledged is sent again by the caller, which the
    // state then finds unchanged. The lines are queued first: the journal keeps its lines in
    // order, so an event's settled line always follows its accepted line.
    const journaled = this.journal.accept(events.map((e) => e.event));
    for (const { event, check } of events) this.enqueue(event, check, false);
    this.kick();
    try {
      await journaled;
    } catch (error) {
      throw new Error(`the events could not be journaled (${(error as Error).message}); some may still be delivered, send them again`, { cause: error });
    }
    return events.map((e) => e.event.id);
  }

  /** Resolves once nothing waits or is in flight (tests, shutdown). */
  idle(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** An accepted event not settled yet, as the API shows it. */
  pending(id: string): { id: string; key: string; status: 'pending'; acceptedAt: string } | undefined {
    const event = this.live.get(id);
    return event && { id, key: event.key, status: 'pending', acceptedAt: new Date(event.acceptedAt).toISOString() };
  }

  summary() {
    return { queued: this.waiting.length, inFlight: this.inFlight.size, held: this.held, queueSize: this.settings.queueSize, ...this.ledger.summary() };
  }

  async close(): Promise<void> {
    this.abort.abort(new Error('the server is stopping'));
    clearTimeout(this.timer);
    await this.journal.close();
    await this.destination.close();
  }

  private enqueue(event: AcceptedEvent, check: ReturnType<typeof checkEventRow>, count = true): void {
    if (count) {
      this.held++;
      this.live.set(event.id, event);
    }
    if (!check.ok) {
      // Only a replayed event can fail here (the model changed since it was accepted).
      void this.settleLocal([{ event, status: 'rejected', reason: check.message, category: 'invalid_row' }]);
      return;
    }
    const order = this.settings.orderBy ? orderValueOf(check.row[this.settings.orderBy]) : undefined;
    this.waiting.push({ ...event, canonical: check.row, order, notBefore: 0 });
  }

  private retryAfterSeconds(): number {
    const perSecond = this.ledger.deliveredPerSecond();
    return Math.max(1, Math.min(60, Math.ceil(perSecond > 0 ? this.held / perSecond / 2 : 1)));
  }

  /** Starts every batch that is due, and sets the timer for the next one. */
  private kick(): void {
    if (this.abort.signal.aborted) return;
    const { maxWaitMs } = this.settings;
    for (;;) {
      const now = Date.now();
      if (this.batches >= this.maxBatches) return;
      const { ready, oldest, nextRetry } = readiness(this.waiting, this.inFlight, now, this.batchSize);
      // Nothing in flight: the destination is idle, and waiting for companions would only add latency.
      // While a batch is out, events gather until a batch is full or its oldest has waited maxWaitMs.
      if (ready > 0 && (ready >= this.batchSize || now - oldest >= maxWaitMs || this.batches === 0)) {
        this.startBatch(now);
        continue;
      }
      const due = Math.min(ready > 0 ? oldest + maxWaitMs : Infinity, nextRetry);
      if (due !== Infinity && due < this.timerAt) {
        clearTimeout(this.timer);
        this.timerAt = due;
        this.timer = setTimeout(() => { this.timerAt = Infinity; this.kick(); }, Math.max(0, due - now));
      }
      return;
    }
  }

  private startBatch(now: number): void {
    const { batch, superseded, rest } = takeBatch(this.waiting, this.batchSize, this.inFlight, now, this.settings.orderBy !== undefined);
    this.waiting = rest;
    for (const event of batch) this.inFlight.add(event.key);
    this.batches++;
    // The slot frees once the destination answered; the keys stay in flight until their state and journal lines are written.
    let slotFreed = false;
    const freeSlot = () => {
      if (slotFreed) return;
      slotFreed = true;
      this.batches--;
      this.kick();
    };
    void this.runBatch(batch, superseded, freeSlot).catch((error: Error) => {
      this.init.warn?.(`sync "${this.sync.name}": events batch failed (${error.message}); its events are tried again`);
      this.requeue(batch, Date.now() + RETRY_MS);
    }).finally(() => {
      for (const event of batch) this.inFlight.delete(event.key);
      freeSlot();
      this.kick();
    });
  }

  /** Each event: stale, refused by the mapping, unchanged, or a change to send; then the sending. */
  private async runBatch(batch: QueuedEvent[], superseded: QueuedEvent[], freeSlot: () => void): Promise<void> {
    const { local, localUpdates, sending } = sortEvents(batch, superseded, {
      model: this.model, mode: this.sync.mode, orderBy: this.settings.orderBy, marks: this.marks, rowState: this.rowState,
    });
    const settledHere = Promise.all([this.commit(localUpdates), this.settleLocal(local)]);
    if (sending.length) await this.send(sending, freeSlot);
    await settledHere;
  }

  private async send(sending: EventToSend[], freeSlot: () => void): Promise<void> {
    const byKey = new Map(sending.map((s) => [s.change.key, s.event]));
    const settledKeys = new Set<string>();
    const settling: Promise<void>[] = [];
    const { destinationConfig } = this.init.resolved;
    try {
      await deliver((async function* () { yield sending.map((s) => s.change); })(), {
        destination: this.destination, batchSize: this.batchSize, rateLimit: destinationConfig.rateLimit,
        signal: this.abort.signal, counters: emptyStats(),
      }, {
        trace: () => undefined,
        onSettled: async (changes: PendingChange[], outcomes: Outcome[]) => {
          for (const c of changes) settledKeys.add(c.key);
          // Not awaited here: state and journal writes of several batches share their fsyncs.
          settling.push(this.settleDelivered(changes, outcomes, byKey, Date.now()));
        },
      });
    } catch (error) {
      // The delivery stopped (quota, unavailable, config): what it did not settle waits and is tried again.
      const retryMs = error instanceof SyncError && error.retryAfterMs ? error.retryAfterMs : RETRY_MS;
      const rest = sending.filter((s) => !settledKeys.has(s.change.key)).map((s) => s.event);
      if (!this.abort.signal.aborted) this.init.warn?.(`sync "${this.sync.name}": ${(error as Error).message}; ${rest.length} events are tried again in ${retryMs} ms`);
      this.requeue(rest, Date.now() + retryMs);
    }
    freeSlot();
    await Promise.all(settling);
  }

  /** `now`: when the destination answered (the events' settledAt, and the end of their latency). */
  private async settleDelivered(changes: PendingChange[], outcomes: Outcome[], byKey: Map<string, QueuedEvent>, now: number): Promise<void> {
    const updates: RowStateUpdate[] = [];
    const settled: LocalSettle[] = [];
    const deferred: QueuedEvent[] = [];
    for (let i = 0; i < changes.length; i++) {
      const change = changes[i]!;
      const outcome = outcomes[i]!;
      const event = byKey.get(change.key)!;
      const update = stateUpdateFor(change, outcome);
      if (update) updates.push(update);
      if (outcome.outcome === 'deferred') deferred.push(event);
      else if (outcome.outcome === 'delivered') {
        settled.push({ event, status: 'delivered' });
        this.init.onDelivered?.(this.sync.name, now - event.acceptedAt);
        this.ledger.latency(now - event.acceptedAt);
      } else settled.push({ event, status: 'rejected', category: outcome.rejection.category, reason: outcome.rejection.message });
    }
    // State first: a crash before the journal's settle line replays the event, which then finds its fingerprint and sends nothing.
    await this.commit(updates);
    await this.settleLocal(settled, now);
    this.requeue(deferred, Date.now() + RETRY_MS);
  }

  private async commit(updates: RowStateUpdate[]): Promise<void> {
    if (!updates.length) return;
    await this.init.store.commitRows(this.sync.name, updates);
    this.committed(updates);
  }

  /** State updates another writer of this process (a run) committed: events compare against them from now on. */
  committed(updates: RowStateUpdate[]): void {
    for (const update of updates) {
      if ('deleted' in update) this.rowState.delete(update.key);
      else this.rowState.set(update.key, update);
    }
  }

  private async settleLocal(items: LocalSettle[], now = Date.now()): Promise<void> {
    if (!items.length) return;
    const entries: SettledEvent[] = items.map(({ event, status, reason, category }) => ({
      id: event.id, key: event.key, status, reason, category, settledAt: now,
      ...(status === 'delivered' && 'order' in event && event.order !== undefined ? { order: event.order } : {}),
    }));
    for (const entry of entries) if (entry.order !== undefined) {
      const mark = this.marks.get(entry.key);
      if (mark === undefined || compareOrder(entry.order, mark) > 0) this.marks.set(entry.key, entry.order);
    }
    await this.journal.settle(entries);
    for (const [i, entry] of entries.entries()) this.ledger.settled({ ...entry, acceptedAt: items[i]!.event.acceptedAt });
    for (const entry of entries) this.live.delete(entry.id);
    this.held -= entries.length;
    if (this.journal.needsCompaction) void this.journal.compact(() => ({ pending: [...this.live.values()], marks: this.marks })).catch((error: Error) => this.init.warn?.(`sync "${this.sync.name}": the events journal could not be compacted (${error.message})`));
    if (this.held === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private requeue(events: QueuedEvent[], notBefore: number): void {
    if (!events.length || this.abort.signal.aborted) return;
    this.waiting = [...events.map((e) => ({ ...e, notBefore })), ...this.waiting];
  }
}
