import fs from 'node:fs/promises';
import type { Project } from '../config/project.ts';
import type { RowStateUpdate, StateStore } from '../state/state-store.ts';
import { resolveSync } from '../engine/resolve-sync.ts';
import { EventPipeline } from './event-pipeline.ts';
import { NatsEventInput } from './nats-event-input.ts';
import { JOURNAL_SUFFIX, eventJournalDir, eventJournalFile } from './event-journal-path.ts';

export interface EventHubInit {
  project: Project;
  store: StateStore;
  warn(message: string): void;
  onDelivered?(sync: string, ms: number): void;
}

/**
 * The event pipelines of a server, one per sync, opened on the first event. At start it opens
 * those whose journal still holds events (accepted before a crash, not settled), so they are
 * delivered without waiting for the next event.
 */
export class EventHub {
  private readonly pipelines = new Map<string, Promise<EventPipeline>>();
  private readonly inputs: NatsEventInput[] = [];
  private closed = false;
  readonly journalDir: string;

  constructor(private readonly init: EventHubInit) {
    this.journalDir = eventJournalDir(init.project);
  }

  async start(): Promise<void> {
    let files: string[] = [];
    try {
      files = await fs.readdir(this.journalDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const syncs = new Set(files.filter((f) => f.endsWith(JOURNAL_SUFFIX)).map((f) => f.slice(0, -JOURNAL_SUFFIX.length)));
    for (const sync of Object.values(this.init.project.syncs)) if (sync.events?.nats) syncs.add(sync.name);
    await Promise.all([...syncs].filter((s) => s in this.init.project.syncs).map((s) => this.pipeline(s).catch((error: Error) =>
      this.init.warn(`sync "${s}": its events could not be resumed (${error.message}); they stay in ${this.journalFile(s)}`))));
    for (const sync of Object.values(this.init.project.syncs)) {
      const nats = sync.events?.nats;
      if (!nats) continue;
      try {
        const input = await NatsEventInput.start({ sync: sync.name, nats, pipeline: await this.pipeline(sync.name), warn: this.init.warn });
        if (this.closed) await input.close();
        else this.inputs.push(input);
      } catch (error) {
        this.init.warn(`sync "${sync.name}": its NATS events input (subject "${nats.subject}") could not start: ${(error as Error).message}`);
      }
    }
  }

  pipeline(sync: string): Promise<EventPipeline> {
    let pipeline = this.pipelines.get(sync);
    if (!pipeline) {
      pipeline = EventPipeline.open({
        project: this.init.project, store: this.init.store, resolved: resolveSync(this.init.project, sync),
        journalPath: this.journalFile(sync), warn: this.init.warn, onDelivered: this.init.onDelivered,
      });
      this.pipelines.set(sync, pipeline);
      pipeline.catch(() => this.pipelines.delete(sync)); // the next event tries again
    }
    return pipeline;
  }

  /** The open pipeline of `sync`, if an event opened it. */
  async opened(sync: string): Promise<EventPipeline | undefined> {
    return this.pipelines.get(sync)?.catch(() => undefined);
  }

  /** A warehouse run moved the sync's state: the pipeline reads it again. */
  async stateMoved(sync: string): Promise<void> {
    await (await this.opened(sync))?.refreshState();
  }

  /**
   * `store` as runs should use it: what they commit reaches the event pipelines of their sync
   * at once, so an event never compares against a state older than the last run's.
   */
  watching(store: StateStore): StateStore {
    const hub = this;
    return new Proxy(store, {
      get(target, property) {
        if (property === 'commitRows') {
          return async (sync: string, updates: RowStateUpdate[]) => {
            await target.commitRows(sync, updates);
            (await hub.opened(sync))?.committed(updates);
          };
        }
        if (property === 'replaceRowState' || property === 'forgetFingerprints') {
          return async (sync: string, ...rest: unknown[]) => {
            await (target[property] as (sync: string, ...rest: unknown[]) => Promise<void>).call(target, sync, ...rest);
            await hub.stateMoved(sync);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // Inputs first: nothing new is accepted while the pipelines close.
    await Promise.allSettled(this.inputs.splice(0).map((input) => input.close()));
    const open = await Promise.allSettled(this.pipelines.values());
    await Promise.allSettled(open.map((p) => (p.status === 'fulfilled' ? p.value.close() : undefined)));
  }

  private journalFile(sync: string): string {
    return eventJournalFile(this.init.project, sync);
  }
}
