import { ConfigError } from '../../errors.ts';
import { errorMap, unknownKey } from '../../config/issue-messages.ts';
import { messageOnly } from '../../config/config-errors.ts';
import type { PathSegment } from '../../config/yaml-files.ts';
import { httpRequestSpecSchema, type HttpRequestConnection, type HttpRequestSpec } from './http-request-settings.ts';
import { loadPreset, type PresetFile } from './preset-files.ts';

export interface Location { file?: string; line?: number; field?: string }

/** Where mistakes go: the config loader collects them all, making a destination throws the first. */
export interface Reporter {
  /** The location of a setting of the destination entry in the project's config. */
  locate(fieldPath: PathSegment[]): Location;
  fail(message: string, where: Location): void;
}

export type SettingValue = string | number | boolean;

export interface ResolvedSpec {
  spec: HttpRequestSpec;
  /** settings.NAME values templates read (defaults filled in). */
  values: Record<string, SettingValue>;
  /** Setting values declared secret: never shown. */
  secrets: string[];
  preset?: string;
  /** Location of a setting, from the destination entry when it wrote it, else from its preset. */
  where(fieldPath: PathSegment[]): Location;
}

/**
 * The settings a destination runs with: its preset (if any), with the entry's own settings
 * written over it key by key, validated whole. Undefined when something is wrong (reported).
 */
export function resolveSpec(connection: HttpRequestConnection, rootDir: string, reporter: Reporter): ResolvedSpec | undefined {
  // name, type, batch, rateLimit and location are every destination's, not these settings.
  const { preset: presetName, presetFolder, settings, name: _n, type: _t, batch: _b, rateLimit: _r, location: _l, ...overlay } =
    withoutUndefined(connection) as HttpRequestConnection & Record<string, unknown>;
  const given = (settings ?? {}) as Record<string, SettingValue>;
  let preset: PresetFile | undefined;
  if (presetName !== undefined) {
    try {
      preset = loadPreset(presetName, rootDir, presetFolder);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // A preset file's own mistake keeps its location; a missing preset or folder is the entry's.
      const { file, field } = error.location;
      reporter.fail(messageOnly(error), file ? error.location : reporter.locate([field ?? 'preset']));
      return undefined;
    }
  }
  const where = (fieldPath: PathSegment[]): Location =>
    !preset || has(overlay, fieldPath) ? reporter.locate(fieldPath) : preset.where(fieldPath);

  const merged = preset ? deepMerge(preset.data, overlay) : { ...overlay, settings: Object.fromEntries(Object.keys(given).map((k) => [k, {}])) };
  const parsed = httpRequestSpecSchema.safeParse(merged, { error: errorMap, reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const fieldPath = issue.path as PathSegment[];
      reporter.fail(issue.message, where(fieldPath));
    }
    return undefined;
  }
  const spec = parsed.data as unknown as HttpRequestSpec;
  const declared = spec.settings ?? {};
  const values: Record<string, SettingValue> = {};
  let ok = true;
  for (const name of Object.keys(given)) {
    if (!(name in declared)) {
      reporter.fail(unknownKey(name, Object.keys(declared)), reporter.locate(['settings', name]));
      ok = false;
    }
  }
  for (const [name, declaration] of Object.entries(declared)) {
    const value = given[name] ?? declaration.default;
    if (value === undefined) {
      const about = declaration.description ? ` (${declaration.description})` : '';
      reporter.fail(`settings.${name} is required by preset "${presetName}"${about}`, reporter.locate(connection.settings !== undefined ? ['settings'] : ['preset']));
      ok = false;
      continue;
    }
    values[name] = value;
  }
  if (!ok) return undefined;
  const secrets = Object.entries(declared)
    .filter(([name, d]) => d.secret && typeof values[name] === 'string' && values[name] !== '')
    .map(([name]) => String(values[name]));
  return { spec, values, secrets, ...(presetName ? { preset: presetName } : {}), where };
}

/** Maps are merged key by key; anything else (text, numbers, lists) is replaced. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const below = out[key];
    out[key] = isMap(value) && isMap(below) ? deepMerge(below, value) : value;
  }
  return out;
}

function has(value: unknown, fieldPath: PathSegment[]): boolean {
  let node = value;
  for (const key of fieldPath) {
    if (!isMap(node) && !Array.isArray(node)) return false;
    if (!(String(key) in (node as object))) return false;
    node = (node as Record<string, unknown>)[key as string];
  }
  return fieldPath.length > 0;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
