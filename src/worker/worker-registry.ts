import os from 'node:os';
import type { Redis } from 'ioredis';

/** How often a worker says it is alive, and after how many missed beats it is listed as not alive. */
export const HEARTBEAT_MS = 5_000;
const DEAD_AFTER_BEATS = 3;
/** A worker not heard of for this long is dropped from the list. */
const FORGET_AFTER_MS = 24 * 3600_000;

export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  configVersion: string;
  startedAt: string;
  lastHeartbeat: string;
  alive: boolean;
  /** Jobs it works on now (run and batch job ids). */
  jobs: string[];
}

/**
 * The workers of a queue prefix, as `GET /api/workers` lists them: each worker writes its entry
 * (current jobs, heartbeat) to one Redis hash every HEARTBEAT_MS; a stopped one removes it.
 */
export class WorkerRegistry {
  constructor(private readonly redis: Redis, private readonly prefix: string) {}

  private get key(): string {
    return `${this.prefix}:workers`;
  }

  /** Beats for this process until the returned stop(); `jobs()` names its current jobs. */
  join(configVersion: string, jobs: () => string[]): () => Promise<void> {
    const id = `${os.hostname()}:${process.pid}`;
    const startedAt = new Date().toISOString();
    const beat = () => this.redis.hset(this.key, id, JSON.stringify({
      id, host: os.hostname(), pid: process.pid, configVersion, startedAt, lastHeartbeat: new Date().toISOString(), jobs: jobs(),
    })).catch(() => undefined);
    void beat();
    const timer = setInterval(() => void beat(), HEARTBEAT_MS);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await this.redis.hdel(this.key, id).catch(() => undefined);
    };
  }

  async list(now = Date.now()): Promise<WorkerInfo[]> {
    const entries = await this.redis.hgetall(this.key);
    const workers: WorkerInfo[] = [];
    for (const [id, text] of Object.entries(entries)) {
      const info = JSON.parse(text) as Omit<WorkerInfo, 'alive'>;
      const age = now - Date.parse(info.lastHeartbeat);
      if (age > FORGET_AFTER_MS) {
        await this.redis.hdel(this.key, id);
        continue;
      }
      workers.push({ ...info, alive: age <= HEARTBEAT_MS * DEAD_AFTER_BEATS });
    }
    return workers.sort((a, b) => a.id.localeCompare(b.id));
  }
}
