import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * The relations a store exposed, per sync, so it can re-point them after it replaces the
 * sync's state. Workspaces are held weakly: a closed, forgotten workspace is simply dropped.
 */
export class Exposures<T extends object = object> {
  private readonly bySync = new Map<string, { workspace: WeakRef<DuckDBConnection>; name: string; data: T }[]>();

  add(sync: string, workspace: DuckDBConnection, name: string, data: T): T | undefined {
    const previous = this.remove(sync, workspace, name);
    const list = this.bySync.get(sync) ?? [];
    list.push({ workspace: new WeakRef(workspace), name, data });
    this.bySync.set(sync, list);
    return previous;
  }

  remove(sync: string, workspace: DuckDBConnection, name: string): T | undefined {
    const list = this.bySync.get(sync);
    const index = list?.findIndex((e) => e.name === name && e.workspace.deref() === workspace) ?? -1;
    if (index < 0) return undefined;
    return list!.splice(index, 1)[0].data;
  }

  list(sync: string): { workspace: DuckDBConnection; name: string; data: T }[] {
    const live = (this.bySync.get(sync) ?? []).filter((e) => e.workspace.deref() !== undefined);
    this.bySync.set(sync, live);
    return live.map((e) => ({ workspace: e.workspace.deref()!, name: e.name, data: e.data }));
  }

  all(): T[] {
    return [...this.bySync.values()].flat().map((e) => e.data);
  }
}
