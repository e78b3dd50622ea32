import type { Value } from '../sources/source.ts';

/**
 * Two JSON forms of a Value:
 * - encodeValue/decodeValue: exact round trip of every Value kind (cursors). bigint, bytes,
 *   non-finite numbers and objects with `$`-keys are tagged, so nothing is lost or confused.
 * - matchJson: plain JSON text for the workspace's `match` column, readable by DuckDB and
 *   JSON.parse: bigints are written as exact number literals, bytes as base64 strings.
 */
export function encodeValue(value: Value): string {
  return JSON.stringify(tag(value));
}

export function decodeValue(text: string): Value {
  return untag(JSON.parse(text) as unknown);
}

export function matchJson(match: Record<string, Value> | null | undefined): string | null {
  if (match === null || match === undefined) return null;
  return plain(match);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
const TAGS = ['$bigint', '$bytes', '$number', '$object'] as const;

function tag(value: Value): Json {
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? value : { $number: String(value) };
  if (Array.isArray(value)) return value.map(tag);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, tag(v)] as const);
    const object = Object.fromEntries(entries) as { [key: string]: Json };
    return Object.keys(value).some((k) => k.startsWith('$')) ? { $object: object } : object;
  }
  return value;
}

function untag(json: unknown): Value {
  if (Array.isArray(json)) return json.map(untag);
  if (json === null || typeof json !== 'object') return json as Value;
  const object = json as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1 && (TAGS as readonly string[]).includes(keys[0])) {
    const inner = object[keys[0]];
    switch (keys[0]) {
      case '$bigint': return BigInt(inner as string);
      case '$bytes': return new Uint8Array(Buffer.from(inner as string, 'base64'));
      case '$number': return Number(inner as string);
      case '$object': return untagEntries(inner as Record<string, unknown>);
    }
  }
  return untagEntries(object);
}

function untagEntries(object: Record<string, unknown>): { [key: string]: Value } {
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, untag(v)]));
}

function plain(value: Value): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (Array.isArray(value)) return `[${value.map(plain).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${plain(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
