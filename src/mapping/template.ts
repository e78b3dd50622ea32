import { Liquid, type Template } from 'liquidjs';
import type { Row, Value } from '../sources/source.ts';

/**
 * Liquid for mapping templates. Filters must exist (a typo fails when the config loads, not
 * on every row); templates see the row's own columns only, and never read files.
 */
export const SAFE_LIQUID_OPTIONS = {
  strictFilters: true,
  ownPropertyOnly: true,
  relativeReference: false,
  fs: {
    exists: async () => false,
    existsSync: () => false,
    readFile: async (file: string) => { throw new Error(`templates cannot read files (${file})`); },
    readFileSync: (file: string) => { throw new Error(`templates cannot read files (${file})`); },
    resolve: (_root: string, file: string) => file,
  },
};

const engine = new Liquid(SAFE_LIQUID_OPTIONS);

export interface CompiledTemplate {
  readonly text: string;
  /** Columns the template reads; undefined when they cannot be known from the text. */
  readonly inputs: string[] | undefined;
  /** Renders synchronously; throws (with Liquid's message) when the template fails on this row. */
  render(row: Row): string;
}

/** Parses once. Throws an Error carrying Liquid's message when the template is not valid Liquid. */
export function compileTemplate(text: string): CompiledTemplate {
  const templates = engine.parse(text);
  return {
    text,
    inputs: templateInputs(templates),
    render: (row) => String(engine.renderSync(templates, toScope(row)) ?? ''),
  };
}

function templateInputs(templates: Template[]): string[] | undefined {
  try {
    const roots = engine.globalVariableSegmentsSync(templates).map((segments) => segments[0]);
    if (roots.some((root) => typeof root !== 'string')) return undefined;
    return [...new Set(roots as string[])].sort();
  } catch {
    return undefined;
  }
}

/** Liquid's math filters cannot take a bigint: give them a number when exact, else the digits. */
function toScope(row: Row): Record<string, unknown> {
  let scope: Record<string, unknown> | undefined;
  for (const [column, value] of Object.entries(row)) {
    if (typeof value !== 'bigint') continue;
    scope ??= { ...row };
    scope[column] = toLiquid(value);
  }
  return scope ?? row;
}

function toLiquid(value: bigint): Value {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}
