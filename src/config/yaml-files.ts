import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from '../errors.ts';
import { checkAliases, checkNesting } from './yaml-limits.ts';

export type PathSegment = string | number;

/** One parsed YAML file, with the positions every message needs. */
export interface ConfigFile {
  /** Absolute path. */
  path: string;
  /** How messages name the file: relative to the working directory when inside it. */
  display: string;
  doc: Document;
  lines: LineCounter;
}

/** Reads `lastmile.yml`, or every `*.yml` / `*.yaml` of a folder (in name order). */
export async function readConfigFiles(configPath: string): Promise<{ files: ConfigFile[]; configPath: string; rootDir: string }> {
  const absolute = path.resolve(configPath);
  const info = await stat(absolute).catch(() => undefined);
  if (!info) {
    throw new ConfigError(`no config at ${displayPath(absolute)}: create one with \`lastmile init\`, or point --config at a lastmile.yml or a folder of .yml files`);
  }
  if (!info.isDirectory()) {
    return { files: [await parseFile(absolute)], configPath: absolute, rootDir: path.dirname(absolute) };
  }
  const names = (await readdir(absolute)).filter((name) => /\.ya?ml$/i.test(name)).sort();
  if (names.length === 0) {
    throw new ConfigError(`folder ${displayPath(absolute)} has no .yml or .yaml files`);
  }
  const files = await Promise.all(names.map((name) => parseFile(path.join(absolute, name))));
  return { files, configPath: absolute, rootDir: absolute };
}

async function parseFile(file: string): Promise<ConfigFile> {
  const text = await readFile(file, 'utf8');
  const display = displayPath(file);
  checkNesting(text, display);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const [error] = doc.errors;
  if (error) {
    const line = lines.linePos(error.pos[0]).line;
    throw new ConfigError(`not valid YAML: ${error.message}`, { file: display, line });
  }
  checkAliases(doc, lines, display);
  return { path: file, display, doc, lines };
}

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/**
 * The line of the deepest node on `fieldPath`: the key's own line for a map entry, the item's
 * line for a list entry. A path that goes missing part way (a required key left out) gives
 * the line of the last node that exists, which is where the user has to add it.
 */
export function lineOf(file: ConfigFile, fieldPath: PathSegment[]): number | undefined {
  let node: unknown = file.doc.contents;
  let line = startLine(file, node);
  for (const segment of fieldPath) {
    if (isAlias(node)) node = node.resolve(file.doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(segment));
      if (!pair) break;
      line = startLine(file, pair.key) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined) break;
      line = startLine(file, item) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

export function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function startLine(file: ConfigFile, node: unknown): number | undefined {
  const range = (node as Node | null)?.range;
  return range ? file.lines.linePos(range[0]).line : undefined;
}

/** `syncs.prices_to_engine.mode`, `tokens[0].role`. */
export function formatPath(fieldPath: readonly PathSegment[]): string {
  let text = '';
  for (const segment of fieldPath) {
    text += typeof segment === 'number' ? `[${segment}]` : text ? `.${segment}` : segment;
  }
  return text;
}
