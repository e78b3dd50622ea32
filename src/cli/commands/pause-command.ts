import type { CliEnv } from '../cli-env.ts';
import { resolveSync } from '../../engine/resolve-sync.ts';
import { EXIT } from '../exit-codes.ts';

/** `lastmile pause SYNC` / `lastmile resume SYNC`: the same pause the API and the UI set, kept in the state store. */
export async function pauseCommand(env: CliEnv, syncName: string, pause: boolean): Promise<number> {
  resolveSync(env.project, syncName); // a sync that does not exist is an error, not a silent pause
  await env.store.setPaused(syncName, pause ? new Date().toISOString() : null);
  const pausedAt = await env.store.pausedAt(syncName);
  if (env.json) env.emit({ sync: syncName, pausedAt });
  else env.say(pause ? `${syncName} is paused (since ${pausedAt}): no scheduled or API run starts until \`lastmile resume ${syncName}\`` : `${syncName} is resumed`);
  return 0;
}

/** A paused sync's `lastmile sync` says so and how to resume it, instead of running. */
export async function refusePaused(env: CliEnv, syncName: string): Promise<number | undefined> {
  const pausedAt = await env.store.pausedAt(syncName);
  if (!pausedAt) return undefined;
  env.log(`lastmile: sync "${syncName}" is paused (since ${pausedAt}); resume it with: lastmile resume ${syncName}`);
  return EXIT.usage;
}
