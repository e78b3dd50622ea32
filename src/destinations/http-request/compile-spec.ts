import { OPERATIONS, type Operation, type RejectCategory } from '../destination.ts';
import { NATURALLY_IDEMPOTENT } from '../../delivery/ambiguity.ts';
import type { PathSegment } from '../../config/yaml-files.ts';
import type { HttpRequestSpec, OperationSpec, ResultsSpec } from './http-request-settings.ts';
import { compileRequestTemplate, RECORD_MEMBERS, TemplateError, type RequestTemplate, type Vocabulary } from './request-template.ts';
import type { Location, Reporter, ResolvedSpec } from './resolve-spec.ts';
import { jsonSyntaxError } from './json-syntax.ts';
import { templateRecord } from './template-record.ts';

export interface CompiledOperation {
  name: Operation;
  method: string;
  url: RequestTemplate;
  headers: [string, RequestTemplate][];
  body?: RequestTemplate;
  format: OperationSpec['format'];
  batchSize: number;
  results?: CompiledResults[];
  /** Whether its templates may read a record's `attributes` (a copy per record otherwise not made). */
  readsAttributes: boolean;
  /** Its JSON body is JSON for any records (proven when compiled): no check before each send. */
  bodyAlwaysJson: boolean;
}

export interface CompiledResults {
  path: string[];
  index?: RequestTemplate;
  key?: RequestTemplate;
  id?: RequestTemplate;
  success?: RequestTemplate;
  message?: RequestTemplate;
  code?: RequestTemplate;
  field?: RequestTemplate;
  category?: RejectCategory;
  retryable: boolean;
}

export interface CompiledSpec {
  resolved: ResolvedSpec;
  spec: HttpRequestSpec;
  /** Rendered once: they read settings only. */
  baseUrl: string;
  headers: Record<string, string>;
  operations: Partial<Record<Operation, CompiledOperation>>;
  results?: CompiledResults[];
  errors?: { message?: RequestTemplate; code?: RequestTemplate; field?: RequestTemplate };
  check?: { method: string; url: string; body?: string };
  describe?: { method: string; url: string };
  /** Operations a retry cannot apply twice: upsert, update, delete, what is the same request as one of them, and what the settings name. */
  retrySafe: Operation[];
}

/**
 * Every template of the settings, compiled once, each mistake reported at its file, line and
 * field. Undefined when any template is wrong.
 */
export function compileSpec(resolved: ResolvedSpec, reporter: Reporter): CompiledSpec | undefined {
  const { spec, values } = resolved;
  const settingNames = Object.keys(spec.settings ?? {});
  const members = { settings: settingNames, record: RECORD_MEMBERS };
  const request: Vocabulary = { roots: ['records', 'record', 'settings', 'idempotencyKey', 'operation'], members, recordLists: { records: 'record' } };
  const fixed: Vocabulary = { roots: ['settings'], members };
  const answer: Vocabulary = { roots: ['item', 'body', 'status'] };
  let ok = true;
  const compile = (text: string, vocabulary: Vocabulary, fieldPath: PathSegment[]): RequestTemplate | undefined => {
    try {
      return compileRequestTemplate(text, vocabulary);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      reporter.fail(error.message, lineInside(resolved.where(fieldPath), text, error.line));
      ok = false;
      return undefined;
    }
  };
  const once = (text: string | undefined, fieldPath: PathSegment[]) =>
    text === undefined ? undefined : compile(text, fixed, fieldPath)?.render({ settings: values });
  const compileResults = (setting: HttpRequestSpec['results'], at: PathSegment[]): CompiledResults[] | undefined => {
    if (setting === undefined) return undefined;
    const list = Array.isArray(setting) ? setting : [setting];
    return list.map((r: ResultsSpec, i) => {
      const base = Array.isArray(setting) ? [...at, i] : at;
      const t = (key: 'index' | 'key' | 'id' | 'success' | 'message' | 'code' | 'field') =>
        r[key] === undefined ? undefined : compile(r[key]!, answer, [...base, key]);
      return {
        path: r.path ? r.path.split('.') : [],
        index: t('index'), key: t('key'), id: t('id'), success: t('success'), message: t('message'), code: t('code'), field: t('field'),
        ...(r.category ? { category: r.category } : {}),
        retryable: r.retryable ?? false,
      };
    });
  };

  const baseUrl = once(spec.baseUrl, ['baseUrl']) ?? '';
  const headers = Object.fromEntries(Object.entries(spec.headers ?? {}).map(([name, text]) => [name, once(text, ['headers', name]) ?? '']));
  const operations: Partial<Record<Operation, CompiledOperation>> = {};
  for (const name of OPERATIONS) {
    const setting = spec.operations[name];
    if (setting === undefined || typeof setting === 'string') continue;
    const at: PathSegment[] = ['operations', name];
    const op: CompiledOperation = {
      name,
      method: setting.method,
      url: compile(setting.url, request, [...at, 'url'])!,
      headers: Object.entries(setting.headers ?? {}).map(([h, text]) => [h, compile(text, request, [...at, 'headers', h])!]),
      ...(setting.body !== undefined ? { body: compile(setting.body, request, [...at, 'body'])! } : {}),
      format: setting.format,
      batchSize: setting.batchSize,
      results: compileResults(setting.results, [...at, 'results']),
      readsAttributes: [setting.url, setting.body ?? '', ...Object.values(setting.headers ?? {})].some((text) => text.includes('attributes')),
      bodyAlwaysJson: false,
    };
    op.bodyAlwaysJson = setting.format === 'json' && op.body !== undefined && alwaysJson(op.body, name, values);
    const single = [op.url, op.body, ...op.headers.map(([, t]) => t)].find((t) => t?.roots.has('record'));
    if (single && op.batchSize > 1) {
      reporter.fail(`operations.${name}: its templates read "record" (one record) but batchSize is ${op.batchSize}; loop over records, or set batchSize: 1`, resolved.where([...at, 'batchSize']));
      ok = false;
    }
    operations[name] = op;
  }
  for (const name of OPERATIONS) {
    const alias = spec.operations[name];
    if (typeof alias !== 'string') continue;
    const target = operations[alias];
    if (!target) {
      reporter.fail(`operations.${name}: "${alias}" names no operation written out here (${Object.keys(operations).join(', ') || 'none'})`, resolved.where(['operations', name]));
      ok = false;
    } else operations[name] = { ...target, name };
  }
  if (Object.keys(operations).length === 0 && ok) {
    reporter.fail('operations: write at least one of insert, update, upsert, delete', resolved.where(['operations']));
    ok = false;
  }
  const errors = spec.errors && {
    message: spec.errors.message === undefined ? undefined : compile(spec.errors.message, answer, ['errors', 'message']),
    code: spec.errors.code === undefined ? undefined : compile(spec.errors.code, answer, ['errors', 'code']),
    field: spec.errors.field === undefined ? undefined : compile(spec.errors.field, answer, ['errors', 'field']),
  };
  const check = spec.check && { method: spec.check.method, url: once(spec.check.url, ['check', 'url']) ?? '', body: once(spec.check.body, ['check', 'body']) };
  const describe = spec.describe?.request && { method: spec.describe.request.method, url: once(spec.describe.request.url, ['describe', 'request', 'url']) ?? '' };
  const results = compileResults(spec.results, ['results']);
  if (!ok) return undefined;
  const named = (op: Operation): boolean => {
    const setting = spec.operations[op];
    return NATURALLY_IDEMPOTENT.includes(op) || (typeof setting === 'string' && NATURALLY_IDEMPOTENT.includes(setting)) || (spec.retrySafe ?? []).includes(op);
  };
  const retrySafe = (Object.keys(operations) as Operation[]).filter(named);
  return { resolved, spec, baseUrl, headers, operations, results, errors, check, describe, retrySafe };
}

/** A template's own line, counted from its field: a block scalar (`body: |`) starts on the next line. */
function lineInside(where: Location, text: string, line: number | undefined): Location {
  if (line === undefined || where.line === undefined || !text.includes('\n')) return where;
  return { ...where, line: where.line + line };
}

/**
 * A body whose text around its values is fixed (only the record count changes it) is JSON for
 * every batch if it is JSON for 0 to 4 records: the first, middle and last items all appear.
 */
function alwaysJson(body: RequestTemplate, op: Operation, settings: Record<string, unknown>): boolean {
  if (!body.fixedJsonStructure) return false;
  const probe = (i: number) => templateRecord({ key: `k${i}`, op, match: { id: `id ${i}` }, fields: { id: `id ${i}`, name: `"n" ${i}`, n: i } });
  for (let count = 0; count <= 4; count++) {
    const records = Array.from({ length: count }, (_, i) => probe(i));
    const scope = { records, record: records[0], settings, idempotencyKey: '00000000-0000-0000-0000-000000000000', operation: op };
    let text: string;
    try {
      text = body.render(scope);
    } catch {
      return false;
    }
    if (jsonSyntaxError(text) !== undefined) return false;
  }
  return true;
}
