/**
 * JSON Schemas of the API's answers, for /openapi.json. Answers are serialised with
 * JSON.stringify (see app.ts), so these document the shapes without trimming them.
 */
import { REJECT_CATEGORIES } from '../destinations/destination.ts';
import { RUN_STATUSES, RUN_TRIGGERS } from '../state/run-record.ts';

const count = { type: 'integer', minimum: 0 } as const;

export const runSummary = {
  type: 'object',
  required: ['sync', 'runId', 'status', 'startedAt', 'durationMs', 'fetched', 'added', 'changed', 'removed', 'unchanged', 'toSync', 'delivered', 'rejected', 'rejectedRetryable', 'deferred', 'skipped', 'apiCalls', 'retries', 'throttled'],
  properties: {
    sync: { type: 'string' }, runId: { type: 'string' }, status: { type: 'string', enum: [...RUN_STATUSES] },
    startedAt: { type: 'string', format: 'date-time' }, finishedAt: { type: 'string', format: 'date-time' },
    durationMs: count, fetched: count, added: count, changed: count, removed: count, unchanged: count,
    toSync: { ...count, description: 'rows this run had to settle: delivered + rejected + deferred + skipped' },
    delivered: count, rejected: count,
    rejectedRetryable: { ...count, description: 'rejected rows sent again next run; the other rejected rows wait until the row changes' },
    deferred: { ...count, description: 'rows not settled in this run (not isolated, capped wait, circuit broken, run stopped): the next run sends them' },
    skipped: { ...count, description: 'operations with nothing to do, e.g. a delete of a row the destination never held' },
    apiCalls: count, retries: count, throttled: count,
    error: { type: 'string' }, dryRun: { type: 'boolean' },
    trigger: { type: 'string', enum: [...RUN_TRIGGERS], description: 'what started the run' },
    freshness: {
      type: 'object', description: 'With a model\'s freshness: its newest row when the run read it',
      properties: {
        column: { type: 'string' }, newestAt: { type: ['string', 'null'], format: 'date-time' }, ageMs: { type: ['integer', 'null'] },
        maxAgeMs: count, stale: { type: 'boolean' }, held: { ...count, description: 'onStale hold: rows held back as stale_data' },
      },
    },
    latency: {
      type: 'object', description: 'With a model\'s eventTime: end-to-end latency L (event time -> acknowledged) of the delivered rows',
      properties: {
        p50Ms: { type: 'number' }, p95Ms: { type: 'number' }, maxMs: { type: 'number' }, rows: count,
        warehouseLoad: { type: 'object', description: 'event time -> the run\'s read of the model', additionalProperties: true },
        sync: { type: 'object', description: 'the run\'s read -> acknowledged', additionalProperties: true },
      },
    },
  },
} as const;

const byCategory = {
  type: 'object', description: 'Rejected rows per failure category.',
  properties: Object.fromEntries(REJECT_CATEGORIES.map((c) => [c, count])),
} as const;

export const syncOverview = {
  type: 'object',
  properties: {
    name: { type: 'string' }, model: { type: 'string' }, source: { type: 'string' }, sourceType: { type: 'string' },
    destination: { type: 'string' }, destinationType: { type: 'string' }, mode: { type: 'string' },
    schedule: { type: ['string', 'null'], description: '"every 5m", "cron */5 * * * *", or null (manual)' },
    after: { type: 'array', items: { type: 'string' } },
    health: { type: 'string', enum: ['never', ...RUN_STATUSES], description: 'status of the last run' },
    running: { type: 'boolean' },
    lastRun: { oneOf: [runSummary, { type: 'null' }] },
    nextRunAt: { type: ['string', 'null'], format: 'date-time' },
    pausedAt: { type: ['string', 'null'], format: 'date-time', description: 'when the sync was paused; null when it is not' },
    rowsDelivered: { ...count, description: 'rows delivered over every recorded run' },
  },
} as const;

const rejectedGroups = {
  type: 'array', description: 'Rejected rows grouped by category, code and message, biggest group first',
  items: { type: 'object', properties: { category: { type: 'string', enum: [...REJECT_CATEGORIES] }, code: { type: 'string' }, message: { type: 'string' }, count } },
} as const;

const progress = {
  type: 'object',
  properties: {
    runId: { type: 'string' }, phase: { type: 'string', enum: ['read', 'diff', 'push', 'finalize'] },
    fetched: count, toSync: count, delivered: count, rejected: count, deferred: count, skipped: count,
    apiCalls: count, retries: count, splitCalls: { ...count, description: 'requests spent isolating rows of batches refused whole' }, throttled: count,
    rowsPerSecond: { type: 'number' },
  },
} as const;

export const runDetail = {
  type: 'object',
  properties: {
    summary: runSummary,
    profile: { type: ['object', 'null'], additionalProperties: true },
    trace: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, step: { type: 'integer' }, text: { type: 'string' } } } },
    rejectedByCategory: byCategory,
    rejectedGroups,
    progress: { oneOf: [progress, { type: 'null' }], description: 'live counts while the run is in progress in this server' },
  },
} as const;

const rejectedRow = {
  type: 'object',
  properties: {
    runId: { type: 'string' }, sync: { type: 'string' }, key: { type: 'string' },
    category: { type: 'string', enum: [...REJECT_CATEGORIES] }, field: { type: 'string' },
    code: { type: 'string' }, message: { type: 'string' }, retryable: { type: 'boolean' }, at: { type: 'string' },
    sent: { type: 'object', additionalProperties: true, description: 'the values sent (for a delete, its identifiers; refused by the mapping, the model\'s row)' },
  },
} as const;


export const rejectedPage = {
  type: 'object',
  properties: { total: count, offset: count, limit: count, rows: { type: 'array', items: rejectedRow } },
} as const;

export const currentRejected = {
  type: 'object',
  description: 'Rows refused for good that the row state still parks, and rows the last run refused for a retry; each with its newest reason. Keys that are numbers in number order.',
  properties: { total: count, offset: count, limit: count, groups: rejectedGroups, rows: { type: 'array', items: rejectedRow } },
} as const;

export const syncDefinition = {
  type: 'object', additionalProperties: true,
  properties: {
    name: { type: 'string' }, mode: { type: 'string' }, schedule: { type: ['string', 'null'] },
    model: { type: 'object', additionalProperties: true, description: 'name, source, sourceType, sql or table (or dbt), primaryKey, cursor' },
    destination: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } },
    match: { type: 'object', additionalProperties: { type: 'string' } },
    mapping: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, from: { type: 'string', enum: ['column', 'static', 'template'] }, value: { type: 'string' } } } },
    after: { type: 'array', items: { type: 'string' } }, options: { type: 'object', additionalProperties: true }, location: { type: ['string', 'null'] },
  },
} as const;

export const plan = {
  type: 'object', additionalProperties: true,
  description: 'What a run would do now, as `lastmile plan` gives it; nothing is written.',
  properties: {
    sync: { type: 'string' }, added: count, changed: count, removed: count, unchanged: count, invalid: count,
    incremental: { type: 'boolean' }, ratePerSecond: { type: 'number' }, estimatedSeconds: { type: 'number' },
    samples: { type: 'object', additionalProperties: true }, notes: { type: 'array', items: { type: 'string' } },
    freshness: { type: 'object', additionalProperties: true, description: 'With a model\'s freshness: age of the newest row, and whether a run would stop (stale)' },
    latency: { type: 'object', additionalProperties: true, description: 'Estimated L of the newest row: its age now + the estimated sync duration' },
  },
} as const;

export const error = {
  type: 'object',
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const errors = { 401: error, 404: error } as const;
