/**
 * Something a destination makes on first use and then shares with every caller: a
 * connection, a table's columns, a stream set up once. A failed attempt is not kept, so the
 * next caller tries again; forget() drops a good one too, when it has gone stale.
 */
export class LazyPromise<T> {
  private current?: Promise<T>;

  /** The shared promise, made with `make` when there is none. */
  get(make: () => Promise<T>): Promise<T> {
    if (this.current) return this.current;
    const attempt: Promise<T> = make().catch((error: unknown) => {
      if (this.current === attempt) this.current = undefined;
      throw error;
    });
    this.current = attempt;
    return attempt;
  }

  /** The next get() makes a new one. */
  forget(): void {
    this.current = undefined;
  }

  /** Forgets `made` (a connection that closed) unless it was already replaced. */
  forgetIf(made: T): void {
    const current = this.current;
    void current?.then((value) => {
      if (value === made && this.current === current) this.current = undefined;
    }, () => {});
  }

  /** Forgets the promise and gives what it made: undefined when there was none or it failed. */
  async take(): Promise<T | undefined> {
    const current = this.current;
    this.current = undefined;
    return current?.catch(() => undefined);
  }
}
