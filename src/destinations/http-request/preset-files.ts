import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../package-root.ts';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../../errors.ts';
import { displayPath, lineOf, type ConfigFile, type PathSegment } from '../../config/yaml-files.ts';

/** Presets shipped with Lastmile. */
export const BUILTIN_PRESET_DIR = path.join(PACKAGE_ROOT, 'src', 'destinations', 'http-request', 'presets') + path.sep;
/** A project's own presets, unless the destination names another folder. */
export const DEFAULT_PRESET_FOLDER = 'presets';

export interface PresetFile {
  name: string;
  file: ConfigFile;
  data: Record<string, unknown>;
  /** `file:line` of a field of the preset, for messages. */
  where(fieldPath: PathSegment[]): { file: string; line?: number; field: string };
}

/**
 * A preset by name: `<presetFolder>/<name>.yml` when the project has one (a user's preset
 * overrides a built-in one of the same name), else the built-in one. Read synchronously: it
 * happens once, when the config loads and when the destination is made.
 */
export function loadPreset(name: string, rootDir: string, presetFolder: string | undefined): PresetFile {
  const folders = presetFolders(rootDir, presetFolder);
  for (const folder of folders) {
    for (const ext of ['.yml', '.yaml']) {
      const file = path.join(folder, name + ext);
      if (existsSync(file)) return parsePreset(name, file);
    }
  }
  const known = [...new Set(folders.flatMap(presetNames))].sort();
  throw new ConfigError(`unknown preset "${name}": known presets are ${known.join(', ') || 'none'} (your own go in ${displayPath(folders[0]!)}/<name>.yml)`, { field: 'preset' });
}

function presetFolders(rootDir: string, presetFolder: string | undefined): string[] {
  const own = path.resolve(rootDir, presetFolder ?? DEFAULT_PRESET_FOLDER);
  if (presetFolder !== undefined && !existsSync(own)) {
    throw new ConfigError(`preset folder ${displayPath(own)} does not exist`, { field: 'presetFolder' });
  }
  return [own, BUILTIN_PRESET_DIR];
}

function presetNames(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder).filter((f) => /\.ya?ml$/i.test(f)).map((f) => f.replace(/\.ya?ml$/i, ''));
}

function parsePreset(name: string, absolute: string): PresetFile {
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(absolute, 'utf8'), { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const file: ConfigFile = { path: absolute, display: displayPath(absolute), doc, lines };
  const [error] = doc.errors;
  if (error) throw new ConfigError(`not valid YAML: ${error.message}`, { file: file.display, line: lines.linePos(error.pos[0]).line });
  const data = doc.toJS() as unknown;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError('a preset is a map of http-request settings (operations, headers, …)', { file: file.display, line: 1 });
  }
  return {
    name, file, data: data as Record<string, unknown>,
    where: (fieldPath) => ({ file: file.display, line: lineOf(file, fieldPath), field: fieldPath.join('.') }),
  };
}
