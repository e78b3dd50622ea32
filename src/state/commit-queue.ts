/**
 * Group commit for one sync's row state. Commits that arrive while a flush is running are
 * written together by the next flush (one write + one fsync for many batches), in call order,
 * so a later commit of a key wins. `exclusive` runs a task (compaction) after every commit
 * already queued and before any later one.
 */
export class CommitQueue<T> {
  private pending: { items: T[]; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private tail: Promise<void> = Promise.resolve();
  private drainScheduled = false;

  constructor(private readonly flush: (items: T[]) => Promise<void>) {}

  commit(items: T[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (this.drainScheduled) return;
      this.drainScheduled = true;
      this.tail = this.tail.then(() => this.drain());
    });
  }

  exclusive<R>(task: () => Promise<R>): Promise<R> {
    const result = this.tail.then(task);
    this.tail = result.then(() => undefined, () => undefined);
    return result;
  }

  /** Resolves once everything queued so far has been flushed (or failed). */
  idle(): Promise<void> {
    return this.exclusive(async () => undefined);
  }

  private async drain(): Promise<void> {
    this.drainScheduled = false;
    const group = this.pending;
    this.pending = [];
    if (!group.length) return;
    try {
      await this.flush(group.flatMap((entry) => entry.items));
      for (const entry of group) entry.resolve();
    } catch (error) {
      for (const entry of group) entry.reject(error);
    }
  }
}
