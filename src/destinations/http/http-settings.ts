import { z } from 'zod';

/**
 * Settings of an `http` destination (webhooks, internal bulk endpoints).
 *
 * Every record is sent as `{ op, key, ...match, ...fields }`: `op` is the sync operation
 * (insert | update | upsert | delete), `key` the model's primary key as a string, then the
 * destination identifier field(s) and the mapped fields. Deletes carry no `fields`.
 * Bulk requests send an array of those (or `{ [bodyKey]: [...] }`); `perRecord` sends one
 * object per request.
 */
export const HTTP_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const httpConnectionSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }),
  method: z.enum(HTTP_METHODS).default('POST'),
  /** Values may hold secrets (tokens): never shown in errors or traces. */
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().positive().max(600_000).default(30_000),
  /** Wrap the records as `{ [bodyKey]: [...] }`; absent: the body is the array itself. */
  bodyKey: z.string().min(1).optional(),
  /** One request per record (the engine then paces single-record writes). */
  perRecord: z.boolean().default(false),
  /** Where deletes go; default: same url, method DELETE, the records in the body. */
  delete: z.strictObject({
    url: z.url({ protocol: /^https?$/ }).optional(),
    method: z.enum(HTTP_METHODS).optional(),
  }).optional(),
  /** HMAC-SHA256 of the raw body, hex, sent as `sha256=<hex>` in `header`. */
  signing: z.strictObject({
    secret: z.string().min(1),
    header: z.string().min(1).default('X-Lastmile-Signature'),
  }).optional(),
  /**
   * Per-record results in a 2xx answer: `path` (dot path to an array, "" for the body itself),
   * each item naming the record by `keyField` and its failure by `errorField` / `codeField`.
   * Records the list does not name count as delivered (the answer was 2xx).
   */
  results: z.strictObject({
    path: z.string().default(''),
    keyField: z.string().min(1).default('key'),
    errorField: z.string().min(1).default('error'),
    codeField: z.string().min(1).optional(),
  }).optional(),
  /**
   * Send `Idempotency-Key` (a hash of the method, url and body: the same for every retry of a
   * request) so the endpoint can ignore a repeat. With it, any operation is retried after a
   * timeout; without it (false: the endpoint does not deduplicate), an insert is not, since it
   * could land twice.
   */
  idempotencyKey: z.boolean().default(true),
});
export type HttpConnection = z.infer<typeof httpConnectionSchema>;

/** Nothing to set on a sync to an http destination. */
export const httpSyncOptionsSchema = z.strictObject({});
export type HttpSyncOptions = z.infer<typeof httpSyncOptionsSchema>;
