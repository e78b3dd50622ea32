import {
  CommentTag, Context, ForTag, IfTag, InlineCommentTag, Output, TokenKind, UnlessTag,
  type Liquid, type Template, type Token,
} from 'liquidjs';

/**
 * Turns a parsed Liquid template into plain JavaScript closures, for the part of Liquid that
 * request bodies use: text, `{{ value | filter: arg }}`, `{% for %}` (with forloop and else),
 * `{% if %}` / `{% unless %}` over comparisons, and comments. liquidjs renders through
 * generators and a scope stack, which costs several microseconds per record of a bulk body;
 * these closures cost a fraction of that. Anything outside the subset (assign, case, loop
 * modifiers, generator filters, ranges…) answers undefined and the caller renders with liquidjs.
 * The semantics are liquidjs's own (readProperty, truthiness, equality, stringify), checked
 * against it by test.
 */
export type Render = (root: Record<string, unknown>) => string;

/** Lexical scope: loop variables by name -> their depth. */
type Bindings = ReadonlyMap<string, number>;
interface Env { root: Record<string, unknown>; items: unknown[]; loops: Loop[]; out: string }
interface Loop { i: number; length: number }
type Piece = (env: Env) => void;
type Expr = (env: Env) => unknown;

class Unsupported extends Error {}
const NIL = Symbol('nil');
const hasOwn = Object.prototype.hasOwnProperty;

/** Filter pairs rendered by one function (`merge | json` builds no merged object): same output, less garbage. */
export type Fusions = Record<string, (value: unknown, ...args: unknown[]) => unknown>;

export function compileLiquid(templates: Template[], engine: Liquid, fusions: Fusions = {}): Render | undefined {
  const context = new Context({}, engine.options);
  try {
    const body = compileList(templates, new Map(), { engine, context, fusions });
    return (root) => {
      const env: Env = { root, items: [], loops: [], out: '' };
      body(env);
      return env.out;
    };
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}

interface Tools { engine: Liquid; context: Context; fusions: Fusions }

function compileList(templates: Template[], bindings: Bindings, tools: Tools): Piece {
  const pieces = templates.map((t) => compileNode(t, bindings, tools)).filter((p): p is Piece => p !== undefined);
  if (pieces.length === 1) return pieces[0]!;
  return (env) => {
    for (const piece of pieces) piece(env);
  };
}

function compileNode(node: Template, bindings: Bindings, tools: Tools): Piece | undefined {
  const any = node as any;
  if (any.token?.kind === TokenKind.HTML) {
    const text: string = any.str;
    return text === '' ? undefined : (env) => void (env.out += text);
  }
  if (node instanceof CommentTag || node instanceof InlineCommentTag) return undefined;
  if (node instanceof Output) {
    const value = compileValue(node.value.initial.postfix, node.value.filters, bindings, tools);
    return (env) => void (env.out += stringify(value(env)));
  }
  if (node instanceof ForTag) return compileFor(node, bindings, tools);
  if (node instanceof IfTag || node instanceof UnlessTag) {
    const branches = node.branches.map((b: any) => ({
      test: b.test as ((value: unknown, ctx: Context) => boolean) | undefined,
      value: compileValue(b.value.initial.postfix, b.value.filters, bindings, tools),
      body: compileList(b.templates, bindings, tools),
    }));
    const otherwise = compileList(node.elseTemplates ?? [], bindings, tools);
    const { context } = tools;
    return (env) => {
      for (const b of branches) {
        const v = unNil(b.value(env));
        if (b.test ? b.test(v, context) : isTruthy(v)) return b.body(env);
      }
      otherwise(env);
    };
  }
  throw new Unsupported();
}

function compileFor(node: ForTag, bindings: Bindings, tools: Tools): Piece {
  if (Object.keys((node.hash as any).hash ?? {}).length > 0) throw new Unsupported();
  const collection = compileOperand(node.collection as Token, bindings);
  const depth = bindings.size;
  const inner = new Map(bindings);
  inner.set(node.variable, depth);
  inner.set('forloop', depth);
  const body = compileList(node.templates, inner, tools);
  const otherwise = compileList(node.elseTemplates, bindings, tools);
  return (env) => {
    const items = toEnumerable(collection(env));
    if (items.length === 0) return otherwise(env);
    const loop: Loop = { i: 0, length: items.length };
    const savedItem = env.items[depth];
    const savedLoop = env.loops[depth];
    env.loops[depth] = loop;
    for (; loop.i < items.length; loop.i++) {
      env.items[depth] = items[loop.i];
      body(env);
    }
    env.items[depth] = savedItem;
    env.loops[depth] = savedLoop!;
  };
}

/** `initial | f1: a | f2` where `initial` is an expression in postfix order. */
function compileValue(postfix: Token[], filters: any[], bindings: Bindings, tools: Tools): Expr {
  // liquidjs hands a nil literal to filters as its NullDrop object: leave that to liquidjs.
  const usesNil = (t: unknown) => (t as Token)?.kind === TokenKind.Literal && ['nil', 'null'].includes((t as any).literal);
  if (filters.length > 0 && (postfix.some(usesNil) || filters.some((f) => f.args.some((a: unknown) => usesNil(Array.isArray(a) ? a[1] : a))))) {
    throw new Unsupported();
  }
  let value = compileExpression(postfix, bindings);
  for (let i = 0; i < filters.length; i++) {
    const filter = filters[i];
    const next = filters[i + 1];
    const fused = next && next.args.length === 0 ? tools.fusions[`${filter.name}|${next.name}`] : undefined;
    if (fused) i++;
    const handler = (fused ?? filter.handler) as ((...args: unknown[]) => unknown) | undefined;
    if (typeof handler !== 'function' || handler.constructor.name !== 'Function') throw new Unsupported(); // generators, async
    const self = { context: tools.context, token: filter.token, liquid: tools.engine };
    const args = (filter.args as unknown[]).map((arg) => (Array.isArray(arg)
      ? (() => { const v = compileOperand(arg[1], bindings); const k = arg[0]; return (env: Env) => [k, toLiquidValue(v(env))]; })()
      : ((v) => (env: Env) => toLiquidValue(v(env)))(compileOperand(arg as Token, bindings))));
    const input = value;
    const [a, b] = args;
    value = args.length === 0 ? (env) => handler.call(self, toLiquidValue(input(env)))
      : args.length === 1 ? (env) => handler.call(self, toLiquidValue(input(env)), a!(env))
        : args.length === 2 ? (env) => handler.call(self, toLiquidValue(input(env)), a!(env), b!(env))
          : (env) => handler.call(self, toLiquidValue(input(env)), ...args.map((arg) => arg(env)));
  }
  return value;
}

function compileExpression(postfix: Token[], bindings: Bindings): Expr {
  const stack: Expr[] = [];
  for (const token of postfix) {
    if (token.kind !== TokenKind.Operator) {
      stack.push(compileOperand(token, bindings));
      continue;
    }
    const op = (token as any).operator as string;
    const r = stack.pop();
    if (!r) throw new Unsupported();
    if (op === 'not') {
      stack.push((env) => !isTruthy(unNil(r(env))));
      continue;
    }
    const l = stack.pop();
    if (!l) throw new Unsupported();
    stack.push(binary(op, l, r));
  }
  if (stack.length !== 1) throw new Unsupported();
  return stack[0]!;
}

function binary(op: string, l: Expr, r: Expr): Expr {
  switch (op) {
    case '==': return (env) => equals(l(env), r(env));
    case '!=': return (env) => !equals(l(env), r(env));
    case '<': return (env) => (unNil(l(env)) as number) < (unNil(r(env)) as number);
    case '>': return (env) => (unNil(l(env)) as number) > (unNil(r(env)) as number);
    case '<=': return (env) => (unNil(l(env)) as number) <= (unNil(r(env)) as number);
    case '>=': return (env) => (unNil(l(env)) as number) >= (unNil(r(env)) as number);
    case 'and': return (env) => isTruthy(unNil(l(env))) && isTruthy(unNil(r(env)));
    case 'or': return (env) => isTruthy(unNil(l(env))) || isTruthy(unNil(r(env)));
    case 'contains': return (env) => contains(unNil(l(env)), r(env));
    default: throw new Unsupported();
  }
}

function compileOperand(token: Token, bindings: Bindings): Expr {
  switch (token.kind) {
    case TokenKind.Number:
    case TokenKind.Quoted: {
      const content = (token as any).content;
      return () => content;
    }
    case TokenKind.Literal: {
      const literal = (token as any).literal as string;
      if (literal === 'true' || literal === 'false') return literal === 'true' ? () => true : () => false;
      if (literal === 'nil' || literal === 'null') return () => NIL;
      throw new Unsupported(); // empty, blank: drops with their own comparisons
    }
    case TokenKind.PropertyAccess: return compileAccess(token as any, bindings);
    default: throw new Unsupported();
  }
}

/** `a.b["c"][0]`: the root from a loop binding or the render input, then readProperty per key. */
function compileAccess(token: { variable?: Token; props: Token[] }, bindings: Bindings): Expr {
  if (token.variable !== undefined) throw new Unsupported();
  const keys = token.props.map((p) => {
    if (p.kind === TokenKind.Word || p.kind === TokenKind.Quoted || p.kind === TokenKind.Number) return (p as any).content as string | number;
    throw new Unsupported(); // a computed key
  });
  const [root, ...rest] = keys;
  if (typeof root !== 'string') throw new Unsupported();
  const depth = bindings.get(root);
  if (root === 'forloop' && depth !== undefined) return compileForloop(depth, rest);
  const start: Expr = depth === undefined ? (env) => readProperty(env.root, root) : (env) => env.items[depth];
  if (rest.length === 0) return start;
  if (rest.length === 1) {
    const k = rest[0]!;
    return (env) => readProperty(start(env), k);
  }
  return (env) => {
    let v = start(env);
    for (const k of rest) v = readProperty(v, k);
    return v;
  };
}

function compileForloop(depth: number, keys: (string | number)[]): Expr {
  if (keys.length !== 1) throw new Unsupported();
  const read: Record<string, (l: Loop) => unknown> = {
    first: (l) => l.i === 0, last: (l) => l.i === l.length - 1, index: (l) => l.i + 1, index0: (l) => l.i,
    rindex: (l) => l.length - l.i, rindex0: (l) => l.length - l.i - 1, length: (l) => l.length,
  };
  const get = read[String(keys[0])];
  if (!get) throw new Unsupported();
  return (env) => get(env.loops[depth]!);
}

/** liquidjs's Context.readProperty with ownPropertyOnly, for plain data. */
export function readProperty(obj: unknown, key: string | number): unknown {
  if (obj === null || obj === undefined) return obj;
  if (Array.isArray(obj) && typeof key === 'number') {
    const index = key < 0 ? obj.length + key : key;
    return hasOwn.call(obj, index) ? obj[index] : undefined;
  }
  const value = hasOwn.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
  if (typeof value === 'function') throw new Error(`templates cannot call functions (${String(key)})`);
  if (key === 'size') return readSize(obj);
  if (key === 'first') return Array.isArray(obj) ? (hasOwn.call(obj, 0) ? obj[0] : undefined) : value;
  if (key === 'last') return Array.isArray(obj) ? (hasOwn.call(obj, obj.length - 1) ? obj[obj.length - 1] : undefined) : value;
  return value;
}

function readSize(obj: any): unknown {
  if (hasOwn.call(obj, 'size') || obj.size !== undefined) return obj.size;
  if (Array.isArray(obj) || typeof obj === 'string') return obj.length;
  if (typeof obj === 'object') return Object.keys(obj).length;
  return undefined;
}

function toEnumerable(value: unknown): unknown[] {
  value = unNil(value);
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value.length > 0 ? [value] : [];
  if (value !== null && typeof value === 'object') {
    if (Symbol.iterator in value) return Array.from(value as Iterable<unknown>);
    return Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
  }
  return [];
}

function equals(a: unknown, b: unknown): boolean {
  if (a === NIL || b === NIL) return unNil(a) == null && unNil(b) == null;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equals(x, b[i]));
  return a === b;
}

function contains(l: unknown, r: unknown): boolean {
  if (Array.isArray(l)) return l.some((x) => equals(x, r));
  if (typeof (l as { indexOf?: unknown })?.indexOf === 'function') return (l as string).indexOf(unNil(r) as string) > -1;
  return false;
}

function isTruthy(v: unknown): boolean {
  return v !== false && v !== undefined && v !== null;
}

function unNil(v: unknown): unknown {
  return v === NIL ? null : v;
}

function toLiquidValue(v: unknown): unknown {
  return v === NIL ? null : v;
}

/** liquidjs's stringify: text as is, nil empty, lists joined, anything else String(). */
export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined || value === NIL) return '';
  if (Array.isArray(value)) return value.map(stringify).join('');
  return String(value);
}
