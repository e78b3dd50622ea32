import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { PathSegment } from './yaml-files.ts';

/**
 * Messages in the words a YAML author uses ("expected one of upsert | insert, got "upsret""),
 * passed to every safeParse. Messages a schema sets itself take precedence.
 */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  const got = `got ${show(issue.input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, ${got}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${show(issue.values[0])}, ${got}`
        : `expected one of ${issue.values.map((value) => String(value)).join(' | ')}, ${got}`;
    case 'unrecognized_keys':
      return issue.keys.map((key) => unknownKey(key, allowedKeys(issue.inst))).join('\n');
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (issue.note === 'No matching discriminator' && options) {
        return `expected one of ${options.map(String).join(' | ')}, ${got}`;
      }
      return `does not match any accepted form, ${got}`;
    }
    case 'too_small':
      return bound(issue.inclusive === false ? 'greater than' : 'at least', issue.origin, issue.minimum, issue.input);
    case 'too_big':
      return bound(issue.inclusive === false ? 'less than' : 'at most', issue.origin, issue.maximum, issue.input);
    case 'invalid_format':
      if (issue.format === 'url') return `expected a URL (https://…), ${got}`;
      if (issue.format === 'regex') return `expected text matching ${(issue as { pattern?: string }).pattern}, ${got}`;
      return `expected ${issue.format}, ${got}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}, ${got}`;
    case 'invalid_key':
      return `invalid name ${show(issue.input)}`;
    default:
      return undefined;
  }
};

const TYPE_WORDS: Record<string, string> = {
  string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false',
  object: 'a map (key: value)', array: 'a list', record: 'a map (key: value)', nonoptional: 'a value',
};

function bound(relation: string, origin: string, limit: number | bigint, input: unknown): string {
  if (origin === 'string') return Number(limit) === 1 && relation === 'at least' ? 'must not be empty' : `must be ${relation} ${limit} characters long`;
  if (origin === 'array' || origin === 'set') return `needs ${relation} ${limit} item${Number(limit) === 1 ? '' : 's'}`;
  return `must be ${relation} ${limit}, got ${show(input)}`;
}

function allowedKeys(inst: unknown): string[] {
  const shape = (inst as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}

export function unknownKey(key: string, allowed: string[]): string {
  const close = allowed.find((candidate) => candidate.toLowerCase() === key.toLowerCase() || editDistance(candidate, key) <= 2);
  if (close) return `unknown key "${key}": did you mean "${close}"?`;
  return allowed.length ? `unknown key "${key}": expected one of ${allowed.join(', ')}` : `unknown key "${key}"`;
}

/** A value as a message shows it: short, and never a whole map. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (empty)';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return String(value);
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** One located ConfigError per problem (one per unknown key, so each points at its own line). */
export function issuesToErrors(
  issues: readonly z.core.$ZodIssue[],
  basePath: PathSegment[],
  where: (fieldPath: PathSegment[]) => { file: string; line?: number; field: string },
): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const issue of issues) {
    const fieldPath = [...basePath, ...(issue.path as PathSegment[])];
    if (issue.code === 'unrecognized_keys') {
      const messages = issue.message.split('\n');
      issue.keys.forEach((key, index) => errors.push(new ConfigError(messages[index] ?? `unknown key "${key}"`, where([...fieldPath, key]))));
    } else {
      errors.push(new ConfigError(issue.message, where(fieldPath)));
    }
  }
  return errors;
}
