import { z } from 'zod';
import { Cron } from 'croner';
import { ALERT_EVENTS, SYNC_MODES } from './project.ts';
import { DURATION_PATTERN, parseDuration } from './duration.ts';
import { show } from './issue-messages.ts';
import { serverUrl, serverUrlProblem } from './url-setting.ts';
import { DIFF_METHODS } from '../diff/diff-method.ts';

/** `state:` names a Postgres store when it is a postgres:// URL, a folder otherwise. */
export const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * The shape of `lastmile.yml`. Connection settings are checked one level down, by the
 * schema each source or destination type registers (see settings-schemas.ts), because
 * which schema applies depends on the entry's `type` (and, for a sync, on its destination's).
 */

/** Names of sources, destinations, models and syncs: they appear in URLs, CLI arguments and file names. */
export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const entryName = z.string().regex(NAME_PATTERN, {
  error: (issue) => `invalid name ${show(issue.input)}: use letters, digits, _ and -, starting with a letter or _`,
});

const nonEmpty = z.string().min(1);

/** The message of a union: the forms it accepts (a missing value is just "is required"). */
const forms = (description: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `expected ${description}, got ${show(issue.input)}`;

/** `30s`, `5m`, `1h30m`: milliseconds once parsed. */
export const durationSchema = z.string().regex(DURATION_PATTERN, {
  abort: true,
  error: (issue) => `expected a duration like 30s, 5m, 1h, 1d or 1h30m, got ${show(issue.input)}`,
}).transform((text, ctx) => parseDuration(text) ?? (ctx.addIssue({ code: 'custom', message: 'is too long a duration' }), z.NEVER));

export const scheduleSchema = z
  .strictObject({
    every: z.string().regex(DURATION_PATTERN, {
      abort: true,
      error: (issue) => `expected a duration like 30s, 5m, 1h, 1d or 1h30m, got ${show(issue.input)}`,
    }).refine((every) => parseDuration(every) !== undefined, { error: 'is too long a duration' }).optional().describe('Run this often: 30s, 5m, 1h, 1d, 1h30m'),
    cron: z.string().superRefine((pattern, ctx) => {
      const problem = cronProblem(pattern);
      if (problem) ctx.addIssue({ code: 'custom', message: `expected a cron expression like "*/5 * * * *", got ${show(pattern)} (${problem})` });
    }).optional().describe('Run on a cron schedule: "*/5 * * * *" (minute hour day month weekday)'),
  })
  .superRefine((schedule, ctx) => {
    if ((schedule.every === undefined) === (schedule.cron === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of every (like 5m) or cron (like "*/5 * * * *")' });
    }
  })
  .describe('When the sync runs by itself; absent: only when asked (CLI, API)');

function cronProblem(pattern: string): string | undefined {
  try {
    new Cron(pattern, { paused: true }).stop();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export const fieldMappingSchema = z.union(
  [
    z.string().min(1).describe('Rename: the model column (the key) is written to this destination field'),
    z.strictObject({ static: z.unknown().describe('A constant written to the destination field (the key)') }),
    z.strictObject({ template: z.string().describe('A Liquid template over the row: "{{ sku | upcase }}"') }),
  ],
  { error: forms('a destination field (column: field), { static: value } or { template: "{{ column }}" }') },
);

/** A model that is a dbt model: its relation, columns and unique tests come from dbt's manifest. */
export const dbtModelSchema = z.strictObject({
  manifest: nonEmpty.default('target/manifest.json').describe('dbt\'s target/manifest.json (relative to the project folder); `dbt compile` writes it'),
  name: nonEmpty.describe('The dbt model: its name, package.name, or unique_id (model.shop.orders)'),
}).describe('Read a dbt model by name (set sql, table or dbt)');

export const modelSchema = z
  .strictObject({
    source: nonEmpty.describe('The source the model reads from'),
    sql: nonEmpty.optional().describe('The query that gives the rows (set sql or table)'),
    table: nonEmpty.optional().describe('A table (or a file, for the files source) read whole (set sql or table)'),
    dbt: dbtModelSchema.optional(),
    primaryKey: z.union([nonEmpty, z.array(nonEmpty).min(1)], { error: forms('a column name or a list of column names') }).optional()
      .describe('Column(s) that identify a row (for a dbt model: defaults to the column its `unique` test covers)'),
    cursor: nonEmpty.optional().describe('Read only rows past the last run\'s high-water mark of this column'),
    diff: z.enum(DIFF_METHODS).optional().describe('Where this model\'s diff runs (overrides the source\'s diff): workspace | warehouse | engine'),
    freshness: z.strictObject({
      column: nonEmpty.describe('A timestamp column: when the row was made (scraped_at, updated_at)'),
      maxAge: durationSchema.describe('Oldest the newest row may be: 30m, 2h, 1d'),
    }).optional().describe('When the newest row is older than maxAge, the run stops before sending (stale_data)'),
    eventTime: nonEmpty.optional().describe('A timestamp column: when the row\'s event happened; each delivered row\'s end-to-end latency is measured from it'),
  })
  .superRefine((model, ctx) => {
    const set = [model.sql, model.table, model.dbt].filter((v) => v !== undefined).length;
    if (set !== 1) {
      ctx.addIssue({ code: 'custom', message: 'set exactly one of sql, table or dbt', path: set === 0 ? [] : [model.sql === undefined ? 'dbt' : 'table'] });
    }
    if (model.primaryKey === undefined && model.dbt === undefined) ctx.addIssue({ code: 'custom', message: 'is required', path: ['primaryKey'] });
  });

/** The keys a sync always has; any other key is the destination type's (`object`, `api`, `table`…). */
export const syncShape = {
  model: nonEmpty.describe('The model to read'),
  destination: nonEmpty.describe('The destination to write to'),
  mode: z.enum(SYNC_MODES).default('upsert').describe('upsert | insert | update | mirror (mirror also deletes what left the model)'),
  match: z.record(nonEmpty, nonEmpty).optional().describe('Model column -> destination identifier field: { email: Email }'),
  mapping: z.record(nonEmpty, fieldMappingSchema).optional().describe('column: field (rename), field: { static: … }, field: { template: "…" }'),
  schedule: scheduleSchema.optional(),
  after: z.union([nonEmpty, z.array(nonEmpty)], { error: forms('a sync name or a list of sync names') }).optional().describe('Run after these syncs succeed'),
  maxDeletePercent: z.number().min(0).max(100).optional().describe('Mirror only: refuse a run that would delete more than this share of synced rows'),
  events: z.strictObject({
    maxWaitMs: z.int().min(0).max(60_000).default(50).describe('Longest an event waits for its batch to fill while another batch is out (default 50); with none out it leaves at once'),
    orderBy: nonEmpty.optional().describe('Model column (event time or sequence) that orders values of one key: an older value is never delivered after a newer one'),
    queueSize: z.int().min(1).default(10_000).describe('Events held in memory, waiting or in flight; past it the API answers 429 with Retry-After'),
    nats: z.strictObject({
      subject: nonEmpty.describe('JetStream subject whose messages (one row or an array of rows, JSON) are events of this sync'),
      servers: z.union([nonEmpty, z.array(nonEmpty)]).default('nats://127.0.0.1:4222').describe('NATS server URL(s)'),
      stream: nonEmpty.optional().describe('JetStream stream to read from (created over `subject` when missing)'),
      durable: nonEmpty.optional().describe('Durable consumer name (default lastmile-events-<sync>)'),
    }).optional().describe('Also read events from a NATS JetStream subject; a message is acknowledged once its rows are journaled'),
  }).optional().describe('Push rows through POST /api/syncs/{sync}/events (and NATS): same mapping, fingerprint, budget and state as runs'),
  freshness: z.strictObject({
    onStale: z.enum(['fail', 'hold']).default('fail')
      .describe('fail: a stale model stops the run, nothing sent; hold: only rows older than the model\'s maxAge are held back (rejected as stale_data, retried next run)'),
  }).optional().describe('What a stale model (see the model\'s freshness) does to this sync'),
};
export const SYNC_KEYS = Object.keys(syncShape);

/** What every destination accepts besides its own connection settings. */
export const destinationCommonShape = {
  batch: z.strictObject({ size: z.int().min(1).describe('Records per request') }).optional(),
  rateLimit: z.strictObject({
    requestsPerSecond: z.number().positive().optional().describe('Requests started per second, at most'),
    concurrency: z.int().min(1).optional().describe('Requests in flight at once, at most'),
    maxRetryAfter: durationSchema.optional()
      .describe('Longest wait a 429\'s Retry-After may impose (default 60s); past it the run stops and the rest waits for the next run'),
  }).optional().describe('Optional: adaptive to the destination\'s answers when absent'),
};
export const destinationCommonSchema = z.strictObject(destinationCommonShape);

export const tokenSchema = z.strictObject({
  token: nonEmpty.describe('Bearer token for the REST API'),
  role: z.enum(['admin', 'read', 'events']).describe('admin: everything; read: read only; events: read and push events'),
  name: z.string().optional(),
});

export const alertSchema = z.strictObject({
  type: z.enum(['webhook', 'slack']),
  url: z.url({ protocol: /^https?$/ }),
  on: z.array(z.enum(ALERT_EVENTS)).min(1).default(['failed']),
  rejectedThreshold: z.int().min(1).optional().describe('For `rejected`: alert when a run rejects at least this many rows'),
  latencyP95: durationSchema.optional().describe('For `latency`: alert when a run\'s end-to-end latency p95 is above this (e.g. 15m)'),
});

/** Distributed mode: runs go through BullMQ queues on this Redis (LASTMILE_REDIS_URL when absent). */
export const queueSchema = z.strictObject({
  redis: serverUrl('redis').optional().describe('Redis of the queues and the shared rate budgets: redis://host:6379/0 (default: LASTMILE_REDIS_URL)'),
  prefix: z.string().regex(/^[A-Za-z0-9_:.-]+$/, { error: 'use letters, digits, _ : . and -' }).default('lastmile')
    .describe('Prefix of every Redis key (several projects can share one Redis)'),
  stalledAfter: durationSchema.optional()
    .describe('A job whose worker is silent this long goes to another worker (default 30s; a killed worker\'s batches are retried after it)'),
});
/** Where a project's sync logs are written back after each run (a DuckDB or Postgres source). */
export const logsSchema = z.strictObject({
  source: nonEmpty.describe('A duckdb or postgres source the logs are written into'),
  schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected a plain SQL schema name like lastmile_logs' }).default('lastmile_logs')
    .describe('Schema of the log tables (runs, changes, rejections)'),
  retention: durationSchema.optional().describe('Rows older than this are deleted after each run (default: kept)'),
}).describe('Sync logs written back to the warehouse: runs, per-row changes, rejections');

/** Building blocks the top level is made of; the JSON Schema swaps in each type's settings. */
export interface EntrySchemas<S extends z.ZodType = z.ZodType, D extends z.ZodType = z.ZodType, Y extends z.ZodType = z.ZodType> {
  source: S;
  destination: D;
  sync: Y;
}

export function projectSchema<S extends z.ZodType, D extends z.ZodType, Y extends z.ZodType>(entries: EntrySchemas<S, D, Y>) {
  return z.strictObject({
    $schema: z.string().optional().describe('Path or URL of this JSON Schema, for editors'),
    version: z.literal(1).default(1),
    state: nonEmpty.superRefine((state, ctx) => {
      const problem = POSTGRES_URL.test(state) ? serverUrlProblem(state, 'postgres') : undefined;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }).default('.lastmile').describe('Folder of the embedded state store, or a postgres:// URL'),
    sources: z.record(entryName, entries.source).default({}),
    destinations: z.record(entryName, entries.destination).default({}),
    models: z.record(entryName, modelSchema).default({}),
    syncs: z.record(entryName, entries.sync).default({}),
    tokens: z.array(tokenSchema).default([]),
    alerts: z.array(alertSchema).default([]),
    queue: queueSchema.optional().describe('Distributed mode: `lastmile worker` processes take runs from queues on Redis (needs state: postgres://…)'),
    logs: logsSchema.optional(),
  });
}

/** The top level as the loader checks it: entries' own settings pass through to the next step. */
export function loaderSchema(sourceTypes: string[], destinationTypes: string[]) {
  return projectSchema({
    source: z.looseObject({ type: typeName('source', sourceTypes) }),
    destination: z.looseObject({ type: typeName('destination', destinationTypes) }),
    sync: z.object(syncShape).catchall(z.unknown()),
  });
}

function typeName(kind: string, known: string[]) {
  const error = (issue: { input?: unknown }) =>
    issue.input === undefined ? 'is required' : `unknown ${kind} type ${show(issue.input)}: known types are ${known.join(', ')}`;
  return known.length > 0 ? z.enum(known as [string, ...string[]], { error }) : z.string();
}

export type RawProject = z.output<ReturnType<typeof loaderSchema>>;
