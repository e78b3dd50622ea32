import type { DestinationConfig, SourceConfig } from './project.ts';
import type { SourceType } from '../sources/registry.ts';
import type { DestinationType } from '../destinations/registry.ts';
import type { Checker } from './checker.ts';
import { destinationCommonSchema } from './schema.ts';
import { strictSettings } from './strict-settings.ts';

type RawEntry = { type: string } & Record<string, unknown>;

/** Each source's settings, checked by its type's own schema. */
export function resolveSources(raw: Record<string, RawEntry>, types: Record<string, SourceType>, check: Checker): Record<string, SourceConfig> {
  const sources: Record<string, SourceConfig> = {};
  for (const [name, { type, ...settings }] of Object.entries(raw)) {
    const parsed = check.parse(strictSettings(types[type].settings), settings, ['sources', name]);
    if (parsed !== undefined) sources[name] = { ...(parsed as object), name, type };
  }
  return sources;
}

/** Each destination's connection, checked by its type's schema, plus the settings every destination has. */
export function resolveDestinations(
  raw: Record<string, RawEntry>,
  types: Record<string, DestinationType>,
  check: Checker,
  rootDir: string,
  secrets: string[],
): Record<string, DestinationConfig> {
  const destinations: Record<string, DestinationConfig> = {};
  for (const [name, { type, batch, rateLimit, ...connection }] of Object.entries(raw)) {
    const common = check.parse(destinationCommonSchema, withoutUndefined({ batch, rateLimit }), ['destinations', name]);
    const parsed = check.parse(strictSettings(types[type].connection), connection, ['destinations', name]);
    if (common === undefined || parsed === undefined) continue;
    const validated = types[type].validate?.(parsed, {
      rootDir,
      locate: (fieldPath) => check.where(['destinations', name, ...fieldPath]),
      fail: (message, where) => check.failAt(message, where),
    });
    secrets.push(...(validated?.secrets ?? []));
    destinations[name] = { ...(parsed as object), name, type, ...withoutUndefined(common) };
  }
  return destinations;
}

/**
 * Values that must never be shown, read from the config as written (before validation, so
 * even a message about a mistyped secret setting hides it): settings a type declares secret,
 * API tokens, and passwords inside URLs (`postgres://user:secret@host/db`).
 */
export function literalSecrets(
  data: Record<string, unknown>,
  sourceTypes: Record<string, SourceType>,
  destinationTypes: Record<string, DestinationType>,
): string[] {
  const secrets: string[] = [];
  const sections = [
    [data.sources, sourceTypes],
    [data.destinations, destinationTypes],
  ] as const;
  for (const [section, types] of sections) {
    if (!isRecord(section)) continue;
    for (const entry of Object.values(section)) {
      if (!isRecord(entry)) continue;
      const type = typeof entry.type === 'string' ? types[entry.type] : undefined;
      for (const setting of type?.secretSettings ?? []) {
        secrets.push(...strings(setting.split('.').reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), entry)));
      }
      secrets.push(...strings(entry).flatMap(urlPassword));
    }
  }
  if (typeof data.state === 'string') secrets.push(...urlPassword(data.state));
  if (Array.isArray(data.tokens)) {
    for (const token of data.tokens) if (isRecord(token) && typeof token.token === 'string') secrets.push(token.token);
  }
  return secrets.filter(Boolean);
}

/** Every string inside a value (a secret setting may be a whole map, like `auth`). */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (isRecord(value)) return Object.values(value).flatMap(strings);
  return [];
}

function urlPassword(text: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(text)) return [];
  try {
    const { password } = new URL(text);
    return password ? [decodeURIComponent(password), password] : [];
  } catch {
    return [];
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
