import { z } from 'zod';
import { FIELD_TYPES, OPERATIONS, REJECT_CATEGORIES } from '../destination.ts';

/**
 * Settings of an `http-request` destination: any JSON (or form, XML) API, its requests written
 * as Liquid templates per operation and its answers read as data. A preset is a file of these
 * settings; the destination entry overlays it key by key.
 *
 * The same shape is built twice: `complete` (what a destination runs with: required keys and
 * defaults) and the overlay a destination entry writes over a preset (everything optional, no
 * defaults, so that an absent key never hides the preset's value).
 */
export const HTTP_REQUEST_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const BODY_FORMATS = ['json', 'form', 'xml', 'text'] as const;
export const RESET_UNITS = ['epoch-seconds', 'epoch-ms', 'seconds', 'ms'] as const;

const template = (what: string) => z.string().describe(`Liquid template: ${what}`);
const statusList = z.array(z.int().min(100).max(599));

function build(complete: boolean) {
  /** Required (or defaulted) when complete; optional and default-free in an overlay. */
  const req = <T extends z.ZodType>(schema: T, fallback?: z.input<T>) =>
    complete ? (fallback === undefined ? schema : schema.default(fallback as never)) : schema.optional();
  const opt = <T extends z.ZodType>(schema: T) => schema.optional();

  /** Per-record outcomes in a 2xx answer, each read by a Liquid template over `item`, `body` and `status`. */
  const results = z.strictObject({
    path: opt(z.string()).describe('Dot path to the list in the answer ("" = the answer itself), e.g. errors'),
    index: opt(template('an item\'s position of its record in the request, e.g. "{{ item.index }}"')),
    key: opt(template('an item\'s record key, as the request sent it, e.g. "{{ item.key }}"')),
    id: opt(template('an item\'s record identifier value, e.g. "{{ item }}" for a list of emails')),
    success: opt(template('non-empty (and not "false") when the item succeeded; absent: every listed item is a failure')),
    message: opt(template('the failure\'s message')),
    code: opt(template('the failure\'s code')),
    field: opt(template('the field at fault')),
    category: opt(z.enum(REJECT_CATEGORIES)),
    retryable: opt(z.boolean()).describe('true: the row is tried again next run'),
  });
  const resultsSetting = z.union([results, z.array(results).min(1)]);

  const operation = z.strictObject({
    method: req(z.enum(HTTP_REQUEST_METHODS), 'POST'),
    url: req(template('the URL, absolute or relative to baseUrl')),
    headers: opt(z.record(z.string(), template('a header value'))),
    body: opt(template('the body, over `records` (or `record` when batchSize is 1)')),
    format: req(z.enum(BODY_FORMATS), 'json').describe('Content type of the body; json bodies are checked before they are sent'),
    batchSize: req(z.int().min(1).max(10_000), 1).describe('Records per request (1: one request per record, templates see `record`)'),
    results: opt(resultsSetting),
  });
  /** An operation, or the name of another operation it is the same request as (`insert: upsert`). */
  const operationSetting = z.union([operation, z.enum(OPERATIONS)]);

  const variable = z.strictObject({
    description: opt(z.string()),
    default: opt(z.union([z.string(), z.number(), z.boolean()])),
    secret: opt(z.boolean()).describe('Never shown: redacted from messages, traces and request previews'),
  });

  const describeFields = z.strictObject({
    fields: opt(z.array(z.strictObject({
      name: z.string().min(1),
      type: z.enum(FIELD_TYPES),
      maxLength: opt(z.int().positive()),
      required: opt(z.boolean()),
      options: opt(z.array(z.string())),
    }))).describe('A static list of the destination\'s fields'),
    request: opt(z.strictObject({ method: req(z.enum(HTTP_REQUEST_METHODS), 'GET'), url: req(template('the schema endpoint')) })),
    path: opt(z.string()).describe('Dot path to the fields in the answer: a list of objects, or a map of name -> type'),
    name: opt(z.string()).describe('In a list: the key holding a field\'s name (default name)'),
    type: opt(z.string()).describe('In a list: the key holding a field\'s type (default type)'),
    types: opt(z.record(z.string(), z.enum(FIELD_TYPES))).describe('The API\'s type names -> Lastmile field types'),
  });

  return z.strictObject({
    description: opt(z.string()),
    settings: opt(z.record(z.string(), complete ? variable : z.union([z.string(), z.number(), z.boolean()])))
      .describe(complete ? 'Variables templates read as settings.NAME' : 'Values for the preset\'s settings (settings.NAME in templates)'),
    baseUrl: opt(template('the base of relative operation URLs')),
    headers: opt(z.record(z.string(), template('a header value sent with every request'))),
    timeoutMs: req(z.int().positive().max(600_000), 30_000),
    operations: req(z.strictObject({
      insert: opt(operationSetting), update: opt(operationSetting), upsert: opt(operationSetting), delete: opt(operationSetting),
    })),
    retrySafe: opt(z.array(z.enum(OPERATIONS))).describe('Operations the API applies once however often they are sent (it honours the Idempotency-Key, or inserts are upserts there); upsert, update and delete always are'),
    idempotencyHeader: req(z.union([z.string().min(1), z.literal(false)]), 'Idempotency-Key')
      .describe('Header holding a key that stays the same across retries of one batch; false: none'),
    limits: opt(z.strictObject({
      requestsPerSecond: opt(z.number().positive()),
      windowMs: opt(z.int().positive()).describe('The window the API counts its rate over (3,000 per 3 s: 1000 over 3000)'),
      concurrency: opt(z.int().min(1)),
    })).describe('Limits the API documents; a destination\'s rateLimit overrides them'),
    limitHeaders: opt(z.strictObject({
      limit: opt(z.string()), remaining: opt(z.string()), reset: opt(z.string()),
      resetUnit: req(z.enum(RESET_UNITS), 'epoch-seconds'),
      windowMs: opt(z.int().positive()).describe('Window the limit header counts over (default: limits.windowMs, else 1 s)'),
      dailyLimit: opt(z.string()), dailyRemaining: opt(z.string()),
    })).describe('Headers the API reports its limits in; absent: RateLimit-Policy / RateLimit-Remaining'),
    statuses: opt(z.strictObject({
      rateLimited: opt(statusList), transient: opt(statusList), terminal: opt(statusList), config: opt(statusList), quota: opt(statusList), success: opt(statusList),
    })).describe('Which answers mean what; terminal (and any other 4xx) refuses the batch: the engine splits it to find the row'),
    results: opt(resultsSetting),
    errors: opt(z.strictObject({
      message: opt(template('the message of a failed answer, over body and status')),
      code: opt(template('its code')),
      field: opt(template('the field at fault')),
    })),
    describe: opt(describeFields),
    check: opt(z.strictObject({
      method: req(z.enum([...HTTP_REQUEST_METHODS, 'HEAD']), 'HEAD'),
      url: req(template('a request that proves the URL and credentials work')),
      body: opt(template('its body')),
    })),
  });
}

export const httpRequestSpecSchema = build(true);

/** The complete settings (what `httpRequestSpecSchema` gives), spelled out: the builder's types are loose. */
export interface ResultsSpec {
  path?: string; index?: string; key?: string; id?: string; success?: string;
  message?: string; code?: string; field?: string; category?: (typeof REJECT_CATEGORIES)[number]; retryable?: boolean;
}
export interface OperationSpec {
  method: (typeof HTTP_REQUEST_METHODS)[number];
  url: string;
  headers?: Record<string, string>;
  body?: string;
  format: (typeof BODY_FORMATS)[number];
  batchSize: number;
  results?: ResultsSpec | ResultsSpec[];
}
export interface HttpRequestSpec {
  description?: string;
  settings?: Record<string, { description?: string; default?: string | number | boolean; secret?: boolean }>;
  baseUrl?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  operations: Partial<Record<(typeof OPERATIONS)[number], OperationSpec | (typeof OPERATIONS)[number]>>;
  idempotencyHeader: string | false;
  retrySafe?: (typeof OPERATIONS)[number][];
  limits?: { requestsPerSecond?: number; windowMs?: number; concurrency?: number };
  limitHeaders?: {
    limit?: string; remaining?: string; reset?: string; resetUnit: (typeof RESET_UNITS)[number];
    windowMs?: number; dailyLimit?: string; dailyRemaining?: string;
  };
  statuses?: { rateLimited?: number[]; transient?: number[]; terminal?: number[]; config?: number[]; quota?: number[]; success?: number[] };
  results?: ResultsSpec | ResultsSpec[];
  errors?: { message?: string; code?: string; field?: string };
  describe?: {
    fields?: { name: string; type: (typeof FIELD_TYPES)[number]; maxLength?: number; required?: boolean; options?: string[] }[];
    request?: { method: (typeof HTTP_REQUEST_METHODS)[number]; url: string };
    path?: string; name?: string; type?: string; types?: Record<string, (typeof FIELD_TYPES)[number]>;
  };
  check?: { method: (typeof HTTP_REQUEST_METHODS)[number] | 'HEAD'; url: string; body?: string };
}

/** What a destination entry writes: a preset to start from, where user presets live, and overrides. */
export const httpRequestConnectionSchema = build(false).extend({
  preset: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'a preset name like braze').optional()
    .describe('Start from this preset (built in, or a .yml file of the preset folder)'),
  presetFolder: z.string().min(1).optional().describe('Folder of your own presets, relative to the project (default: presets)'),
});
export type HttpRequestConnection = z.output<typeof httpRequestConnectionSchema>;

/** Nothing to set on a sync: what to send is the destination's templates over the mapped fields. */
export const httpRequestSyncOptionsSchema = z.strictObject({});
