import type { Project, QueueConfig } from '../config/project.ts';
import { POSTGRES_URL } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';

/**
 * What the distributed mode needs, or a config error saying what to set: a Redis for the
 * queues and the shared rate budgets, and a state store that every worker reaches (Postgres;
 * the embedded store is a folder on one machine's disk).
 */
export function distributedSettings(project: Project, what: string): { queue: QueueConfig; state: string } {
  if (!project.queue) {
    throw new ConfigError(`${what} needs a Redis for its queues: add queue: { redis: redis://host:6379 } to ${project.configPath}, or set LASTMILE_REDIS_URL`);
  }
  if (!POSTGRES_URL.test(project.state)) {
    throw new ConfigError(
      `${what} needs a state store every worker reaches: set state: postgres://… (the embedded store at ${project.state} is a folder on one machine)`,
      project.stateLocation,
    );
  }
  return { queue: project.queue, state: project.state };
}
