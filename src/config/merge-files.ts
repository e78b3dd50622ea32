import { ConfigError } from '../errors.ts';
import { formatPath, lineOf, type ConfigFile, type PathSegment } from './yaml-files.ts';

/** Sections whose entries are named: an entry may live in any file, but in one only. */
export const NAMED_SECTIONS = ['sources', 'destinations', 'models', 'syncs'] as const;
/** Sections that are lists: the files' items are put end to end. */
const LIST_SECTIONS = ['tokens', 'alerts'] as const;

export interface Located {
  file: string;
  line?: number;
}

/** The files of a project as one object, remembering which file and line every value came from. */
export interface MergedConfig {
  data: Record<string, unknown>;
  locate(fieldPath: PathSegment[]): Located;
  /** Location in ConfigError's shape, with the field path spelled out. */
  where(fieldPath: PathSegment[]): { file: string; line?: number; field: string };
  /** Formatted paths (in the merged object) of unquoted values that were one whole `${NAME}`. */
  envTyped: Set<string>;
}

interface Origin {
  file: ConfigFile;
  /** Index of this item inside its own file, for list sections. */
  localIndex?: number;
}

export interface ParsedFile {
  file: ConfigFile;
  data: unknown;
  wholeValuePaths: PathSegment[][];
}

export function mergeFiles(files: ParsedFile[]): MergedConfig {
  const data: Record<string, unknown> = {};
  const topOrigins = new Map<string, Origin>();
  const entryOrigins = new Map<string, Origin>();
  const listOrigins = new Map<string, Origin[]>();

  const envTyped = new Set<string>();
  for (const { file, data: content, wholeValuePaths } of files) {
    if (content === null || content === undefined) continue;
    const listOffsets: Record<string, number> = {};
    if (!isPlainObject(content)) {
      throw new ConfigError('expected a map of sections (version, sources, destinations, models, syncs…)', { file: file.display, line: 1 });
    }
    for (const [key, value] of Object.entries(content)) {
      if ((NAMED_SECTIONS as readonly string[]).includes(key) && (isPlainObject(value) || value === null) && !isNonMap(data[key])) {
        const section = (data[key] ??= {}) as Record<string, unknown>;
        for (const [name, entry] of Object.entries(value ?? {})) {
          const id = `${key}\u0000${name}`;
          const earlier = entryOrigins.get(id);
          if (earlier) throw duplicate([key, name], earlier.file, file);
          entryOrigins.set(id, { file });
          section[name] = entry;
        }
        topOrigins.set(key, topOrigins.get(key) ?? { file });
      } else if ((LIST_SECTIONS as readonly string[]).includes(key) && (Array.isArray(value) || value === null) && !isNonList(data[key])) {
        const list = (data[key] ??= []) as unknown[];
        listOffsets[key] = list.length;
        const origins = listOrigins.get(key) ?? [];
        (value ?? []).forEach((item: unknown, localIndex: number) => {
          list.push(item);
          origins.push({ file, localIndex });
        });
        listOrigins.set(key, origins);
        topOrigins.set(key, topOrigins.get(key) ?? { file });
      } else {
        const earlier = topOrigins.get(key);
        // `version: 1` in every file is harmless; two different states are not.
        if (earlier && !(key === 'version' && data[key] === value)) throw duplicate([key], earlier.file, file);
        topOrigins.set(key, earlier ?? { file });
        data[key] = value;
      }
    }
    for (const local of wholeValuePaths) {
      const [section, index] = local;
      const offset = typeof section === 'string' && typeof index === 'number' ? listOffsets[section] : undefined;
      envTyped.add(formatPath(offset === undefined ? local : [section, offset + (index as number), ...local.slice(2)]));
    }
  }

  const fallback = files[0].file;
  const locate = (fieldPath: PathSegment[]): Located => {
    const [section, second] = fieldPath;
    let origin: Origin | undefined;
    let localPath = fieldPath;
    if (typeof section === 'string' && typeof second === 'string') origin = entryOrigins.get(`${section}\u0000${second}`);
    if (!origin && typeof section === 'string' && typeof second === 'number') {
      origin = listOrigins.get(section)?.[second];
      if (origin) localPath = [section, origin.localIndex!, ...fieldPath.slice(2)];
    }
    origin ??= typeof section === 'string' ? topOrigins.get(section) : undefined;
    const file = origin?.file ?? fallback;
    return { file: file.display, line: lineOf(file, localPath) };
  };
  return { data, locate, where: (fieldPath) => ({ ...locate(fieldPath), field: formatPath(fieldPath) }), envTyped };
}

function duplicate(fieldPath: PathSegment[], first: ConfigFile, second: ConfigFile): ConfigError {
  const field = formatPath(fieldPath);
  const firstAt = `${first.display}:${lineOf(first, fieldPath) ?? 1}`;
  return new ConfigError(
    `${field} is defined twice, here and in ${firstAt}: keep one (each name may appear in one file only)`,
    { file: second.display, line: lineOf(second, fieldPath), field },
  );
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

const isNonMap = (value: unknown) => value !== undefined && !isPlainObject(value);
const isNonList = (value: unknown) => value !== undefined && !Array.isArray(value);
