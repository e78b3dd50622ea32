import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { sourceTypes } from '../sources/registry.ts';
import { destinationTypes } from '../destinations/registry.ts';
import type { Project } from './project.ts';
import { readConfigFiles } from './yaml-files.ts';
import { substituteEnv } from './env-substitution.ts';
import { mergeFiles, type ParsedFile } from './merge-files.ts';
import { Checker } from './checker.ts';
import { loaderSchema, POSTGRES_URL, type RawProject } from './schema.ts';
import { literalSecrets, resolveDestinations, resolveSources } from './resolve-connections.ts';
import { resolveLogs, resolveModels, resolveSyncs } from './resolve-syncs.ts';
import { combine, redactError } from './config-errors.ts';
import { serverUrlProblem } from './url-setting.ts';

export { validateColumns } from './validate-columns.ts';

/**
 * Reads a project: `lastmile.yml`, or a folder of `.yml` files merged. Substitutes `${ENV}`,
 * validates everything (each type's settings by its own schema) and resolves cross references.
 * Every mistake is a ConfigError naming file, line and field; secrets never appear in one.
 */
export async function loadProject(configPath: string, env: Record<string, string | undefined> = process.env): Promise<Project> {
  const { files, configPath: absolutePath, rootDir } = await readConfigFiles(configPath);
  const secrets: string[] = [];
  const parsed: ParsedFile[] = [];
  for (const file of files) {
    const { secrets: substituted, wholeValuePaths } = substituteEnv(file, env);
    secrets.push(...substituted);
    // Aliases were checked when the file was read (yaml-limits.ts): many uses of a small anchor are fine.
    parsed.push({ file, data: file.doc.toJS({ maxAliasCount: -1 }), wholeValuePaths });
  }
  try {
    const merged = mergeFiles(parsed);
    secrets.push(...literalSecrets(merged.data, sourceTypes, destinationTypes));
    const check = new Checker(merged, merged.envTyped);

    const raw = check.parse(loaderSchema(Object.keys(sourceTypes), Object.keys(destinationTypes)), merged.data, []) as RawProject | undefined;
    if (!raw) throw combine(check.errors);

    const sources = resolveSources(raw.sources, sourceTypes, check);
    const destinations = resolveDestinations(raw.destinations, destinationTypes, check, rootDir, secrets);
    const models = resolveModels(raw, check, rootDir);
    const syncs = resolveSyncs(raw, models, destinationTypes, check);
    if (raw.queue && !POSTGRES_URL.test(raw.state)) {
      check.fail(`the distributed mode needs a state store every worker reaches: set state: postgres://… (state ${JSON.stringify(raw.state)} is a folder on one machine)`, ['queue']);
    }
    const logs = resolveLogs(raw, check);
    if (check.errors.length > 0) throw combine(check.errors);
    const queue = queueOf(raw, env, check);
    if (queue.queue && new URL(queue.queue.redis).password) secrets.push(queue.queue.redis, decodeURIComponent(new URL(queue.queue.redis).password));

    return {
      configPath: absolutePath,
      rootDir,
      state: POSTGRES_URL.test(raw.state) ? raw.state : path.resolve(rootDir, raw.state),
      stateLocation: check.where(['state']),
      sources,
      destinations,
      models,
      syncs,
      tokens: raw.tokens,
      alerts: raw.alerts,
      ...queue,
      ...(logs && { logs }),
      secrets: [...new Set(secrets)],
    };
  } catch (error) {
    throw error instanceof ConfigError ? redactError(error, secrets) : error;
  }
}

/** `queue:` with its Redis URL, or LASTMILE_REDIS_URL alone: the distributed mode's settings (none: not in use). */
function queueOf(raw: RawProject, env: Record<string, string | undefined>, check: Checker): Pick<Project, 'queue' | 'queueLocation'> {
  const redis = raw.queue?.redis ?? env.LASTMILE_REDIS_URL;
  if (!redis) return {};
  const problem = serverUrlProblem(redis, 'redis');
  if (problem) throw new ConfigError(`LASTMILE_REDIS_URL: ${problem}`);
  const stalledAfterMs = raw.queue?.stalledAfter;
  return { queue: { redis, prefix: raw.queue?.prefix ?? 'lastmile', ...(stalledAfterMs ? { stalledAfterMs } : {}) }, queueLocation: check.where(['queue']) };
}
