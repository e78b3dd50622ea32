import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { errorMap, issuesToErrors } from './issue-messages.ts';
import type { MergedConfig } from './merge-files.ts';
import { formatPath, type PathSegment } from './yaml-files.ts';

/** Collects every mistake of one validation step, each located in its file, so users fix them in one go. */
export class Checker {
  readonly errors: ConfigError[] = [];

  constructor(
    private readonly merged: MergedConfig,
    /** Formatted paths of unquoted values that were one whole `${NAME}`. */
    private readonly envTyped: ReadonlySet<string>,
  ) {}

  fail(message: string, fieldPath: PathSegment[]): void {
    this.errors.push(new ConfigError(message, this.merged.where(fieldPath)));
  }

  /** A mistake located elsewhere (a file a setting names). */
  failAt(message: string, location: { file?: string; line?: number; field?: string }): void {
    this.errors.push(new ConfigError(message, location));
  }

  where(fieldPath: PathSegment[]) {
    return this.merged.where(fieldPath);
  }

  /** Validates `value` (found at `basePath`); undefined, with the errors recorded, when it is not valid. */
  parse<T>(schema: z.ZodType<T>, value: unknown, basePath: PathSegment[]): T | undefined {
    let input = value;
    for (let attempt = 0; ; attempt++) {
      const result = schema.safeParse(input, { error: errorMap, reportInput: true });
      if (result.success) return result.data;
      const retyped = attempt === 0 ? this.retypeEnvValues(input, result.error.issues, basePath) : undefined;
      if (retyped === undefined) {
        this.errors.push(...issuesToErrors(result.error.issues, basePath, (fieldPath) => this.merged.where(fieldPath)));
        return undefined;
      }
      input = retyped;
    }
  }

  /**
   * `port: ${PG_PORT}` reads as text; where the setting wants a number or a boolean, read the
   * variable's value as one. Only values that were a whole unquoted `${NAME}`: quoting keeps text.
   */
  private retypeEnvValues(input: unknown, issues: readonly z.core.$ZodIssue[], basePath: PathSegment[]): unknown {
    let copy: unknown;
    for (const issue of issues) {
      if (issue.code !== 'invalid_type' || !['number', 'int', 'boolean'].includes(issue.expected)) continue;
      if (issue.path.length === 0) continue;
      if (!this.envTyped.has(formatPath([...basePath, ...(issue.path as PathSegment[])]))) continue;
      copy ??= structuredClone(input);
      const parent = issue.path.slice(0, -1).reduce<any>((node, key) => node?.[key as PathSegment], copy);
      const key = issue.path[issue.path.length - 1] as PathSegment;
      const text = parent?.[key];
      if (typeof text !== 'string') continue;
      if (issue.expected === 'boolean' && /^(true|false)$/.test(text)) parent[key] = text === 'true';
      else if (issue.expected !== 'boolean' && /^-?\d+(\.\d+)?$/.test(text)) parent[key] = Number(text);
      else continue;
    }
    return copy;
  }
}
