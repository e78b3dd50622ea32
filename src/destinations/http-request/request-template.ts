import { analyzeSync, ForTag, Liquid, toValueSync, TokenKind, type Template } from 'liquidjs';
import { SAFE_LIQUID_OPTIONS } from '../../mapping/template.ts';
import { editDistance } from '../../config/issue-messages.ts';
import { jsonValue } from '../http/http-destination.ts';
import { compileLiquid } from './liquid-compiler.ts';
import { hasFixedJsonStructure } from './json-structure.ts';

/**
 * A request template (URL, header, body, or how to read an answer), parsed and compiled once
 * when the destination is made. Renders through compiled closures when the template stays in
 * the common subset of Liquid, through liquidjs otherwise: same output either way.
 */
export interface RequestTemplate {
  readonly text: string;
  /** true when rendering goes through the compiled closures. */
  readonly compiled: boolean;
  /** Root variables the template reads (records, record, settings…). */
  readonly roots: ReadonlySet<string>;
  /** Only its JSON values vary with the data, not the text around them (see hasFixedJsonStructure). */
  readonly fixedJsonStructure: boolean;
  render(scope: Record<string, unknown>): string;
}

/** A template mistake, with the line inside the template when known. */
export class TemplateError extends Error {
  constructor(message: string, readonly line?: number) {
    super(message);
  }
}

/** What a template may read: its root variables, and for some of them, their known members. */
export interface Vocabulary {
  roots: readonly string[];
  members?: Readonly<Record<string, readonly string[]>>;
  /** Loops over this root bind records: their variable's members are checked against `members[root item]`. */
  recordLists?: Readonly<Record<string, string>>;
}

/** What a record looks like to a template. */
export const RECORD_MEMBERS = ['key', 'op', 'id', 'idField', 'match', 'fields', 'attributes', 'destId'] as const;

const engine = new Liquid(SAFE_LIQUID_OPTIONS);
const hasOwn = Object.prototype.hasOwnProperty;

/** JSON for Lastmile values: bigint as digits, binary as base64 (as the http destination sends them). */
const json = (value: unknown, space?: number) => JSON.stringify(value ?? null, plainJson(value) ? undefined : jsonValue, space) ?? 'null';
/** `{{ r.fields | merge: _update_existing_only: true }}`: an object with more keys. */
const merge = (value: unknown, ...pairs: unknown[]) => {
  // Object.assign, not spread: several times faster per record of a bulk body.
  const merged: Record<string, unknown> = Object.assign({}, isMap(value) ? value : {});
  for (const pair of pairs) if (Array.isArray(pair) && pair.length === 2) merged[pair[0]] = pair[1];
  return merged;
};
engine.registerFilter('json', json);
engine.registerFilter('merge', merge);

/** `merge | json` as one step: the object's JSON with the new keys appended, no merged copy. */
const FUSIONS = {
  'merge|json': (value: unknown, ...pairs: unknown[]) => {
    if (!isMap(value) || !plainJson(value)) return json(merge(value, ...pairs));
    const text = JSON.stringify(value);
    const added: string[] = [];
    let tail = '';
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2) continue;
      const [key, v] = pair as [string, unknown];
      if (hasOwn.call(value, key) || added.includes(key) || typeof v === 'bigint' || (v !== null && typeof v === 'object')) return json(merge(value, ...pairs));
      added.push(key);
      if (v === undefined || typeof v === 'function') continue;
      tail += `${tail || text.length > 2 ? ',' : ''}${JSON.stringify(key)}:${JSON.stringify(v)}`;
    }
    return tail ? `${text.slice(0, -1)}${tail}}` : text;
  },
};

export function compileRequestTemplate(text: string, vocabulary: Vocabulary): RequestTemplate {
  let templates: Template[];
  try {
    templates = engine.parse(text);
  } catch (error) {
    throw new TemplateError(`not valid Liquid: ${(error as Error).message}`);
  }
  const roots = checkVariables(templates, vocabulary);
  const fast = compileLiquid(templates, engine, FUSIONS);
  return {
    text,
    compiled: fast !== undefined,
    roots,
    fixedJsonStructure: fast !== undefined && hasFixedJsonStructure(templates),
    render: fast ?? ((scope) => String(engine.renderSync(templates, scope) ?? '')),
  };
}

/** Unknown variables (a typo renders as nothing and sends a broken request) are mistakes of the config. */
function checkVariables(templates: Template[], vocabulary: Vocabulary): Set<string> {
  const analysis = analyzeSync(templates);
  const recordVariables = loopVariables(templates, vocabulary.recordLists ?? {});
  const roots = new Set<string>();
  for (const [name, uses] of Object.entries(analysis.variables)) {
    const itemOf = recordVariables.get(name);
    for (const use of uses) {
      const [, member] = use.segments;
      const line = use.location.row;
      if (itemOf !== undefined) {
        checkMember(`${name}`, member, vocabulary.members?.[itemOf], line);
        continue;
      }
      if (!hasOwn.call(analysis.globals, name)) continue; // assigned or captured inside the template
      if (!vocabulary.roots.includes(name)) {
        throw new TemplateError(`unknown variable "${name}": templates here read ${vocabulary.roots.join(', ')}`, line);
      }
      roots.add(name);
      checkMember(name, member, vocabulary.members?.[name], line);
    }
  }
  return roots;
}

function checkMember(variable: string, member: unknown, known: readonly string[] | undefined, line: number): void {
  if (known === undefined || typeof member !== 'string' || known.includes(member)) return;
  const near = known.find((k) => k.toLowerCase() === member.toLowerCase() || editDistance(k, member) <= 2);
  throw new TemplateError(`unknown variable "${variable}.${member}"${near ? ` (did you mean ${variable}.${near}?)` : ''}: ${variable} has ${known.join(', ') || 'nothing'}`, line);
}

/** Loop variable name -> the record list it walks (`{% for r in records %}` binds r to a record). */
function loopVariables(templates: Template[], recordLists: Readonly<Record<string, string>>): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (nodes: Template[]) => {
    for (const node of nodes) {
      if (node instanceof ForTag) {
        const collection = node.collection as { kind?: number; props?: { content?: unknown }[] };
        const list = collection.kind === TokenKind.PropertyAccess && collection.props?.length === 1 ? String(collection.props[0]?.content) : undefined;
        const item = list === undefined ? undefined : recordLists[list];
        if (item !== undefined) found.set(node.variable, item);
      }
      const children = (node as { children?: () => Iterator<unknown> }).children;
      if (children) visit(toValueSync(children.call(node)) as Template[]);
    }
  };
  visit(templates);
  return found;
}

/** No bigint, binary or nested value: JSON.stringify needs no replacer (a replacer costs per key). */
function plainJson(value: unknown): boolean {
  if (typeof value === 'bigint' || value instanceof Uint8Array) return false;
  if (value === null || typeof value !== 'object') return true;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v === 'bigint' || (v !== null && typeof v === 'object')) return false;
  }
  return true;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}
