import type {
  Capabilities, Change, Destination, DestinationInit, FieldSpec, Operation, RateLimitObservation, RecordResult, WriteContext,
} from '../destination.ts';
import { SyncError } from '../../errors.ts';
import { SalesforceSession } from './salesforce-auth.ts';
import { writeBulk, type BulkTiming } from './salesforce-bulk.ts';
import { SalesforceClient, unmetered, type CallScope } from './salesforce-client.ts';
import { COLLECTION_LIMIT, writeCollections } from './salesforce-collections.ts';
import { checkFields, fieldSpec, type SalesforceField, type SalesforceObjectDescription } from './salesforce-describe.ts';
import type { WriteSetup } from './salesforce-targets.ts';
import type { SalesforceConnection, SalesforceSyncOptions } from './salesforce-type.ts';

const OPERATIONS: readonly Operation[] = ['insert', 'update', 'upsert', 'delete'];
const DEFAULT_TIMING: BulkTiming = { pollMs: 1_000, maxPollMs: 20_000 };

/**
 * Salesforce through sObject Collections (200 records a request) or, for large runs,
 * Bulk API 2.0 (one ingest job per write). Per-record results either way. Every request,
 * each Bulk poll included, goes under a permit of the engine's budget, which reads the daily
 * API quota from the Sforce-Limit-Info this destination reports and stops the run at its reserve.
 */
export class SalesforceDestination implements Destination {
  readonly type = 'salesforce';
  readonly name: string;
  readonly budgetKey: string;
  private readonly connection: SalesforceConnection;
  private readonly options: SalesforceSyncOptions;
  private readonly client: SalesforceClient;
  private readonly written: string[];
  private readonly externalIdField: string | undefined;
  private readonly timing: BulkTiming;
  private api: 'rest' | 'bulk';
  private fields?: Promise<Map<string, SalesforceField>>;
  private limits?: RateLimitObservation;

  constructor(init: DestinationInit<SalesforceConnection, SalesforceSyncOptions>, timing: Partial<BulkTiming> = {}) {
    this.connection = init.connection;
    this.options = init.options;
    this.name = init.connection.name;
    this.timing = { ...DEFAULT_TIMING, ...timing };
    const session = new SalesforceSession(this.name, this.connection);
    this.client = new SalesforceClient(this.name, session, this.connection.apiVersion, (observed) => { this.limits = observed; });
    const org = this.connection.instanceUrl ?? this.connection.loginUrl ?? 'https://login.salesforce.com';
    this.budgetKey = `salesforce:${org.replace(/\/+$/, '')}:${this.connection.auth.clientId}`;
    const matched = Object.values(init.sync.match);
    this.externalIdField = this.options.externalIdField ?? matched[0];
    this.written = [...new Set([...Object.keys(init.sync.mapping), ...matched])];
    this.api = this.options.api === 'bulk' ? 'bulk' : 'rest';
  }

  get capabilities(): Capabilities {
    return {
      operations: OPERATIONS,
      maxBatchSize: this.api === 'bulk' ? this.options.bulkJobSize : COLLECTION_LIMIT,
      perRecordResults: true,
      // Salesforce sets no per-second limit, only the daily quota and 25 long-running requests at once.
      rateLimit: {
        ...(this.api === 'bulk' ? { concurrency: 2 } : {}),
        ...(this.connection.quotaReserve === undefined ? {} : { dailyReserve: this.connection.quotaReserve }),
      },
    };
  }

  /** The quota the last answer reported, describe's included: a run started with it nearly used sends nothing. */
  lastObservedLimits(): RateLimitObservation | undefined {
    return this.limits;
  }

  /** Bulk API 2.0 when asked to, or (api: auto) when the run changes more than bulkThreshold rows. */
  planFor(changeCount: number): void {
    const { api, bulkThreshold } = this.options;
    this.api = api === 'bulk' || (api === 'auto' && changeCount > bulkThreshold) ? 'bulk' : 'rest';
  }

  /** Which API the next writes use. */
  get activeApi(): 'rest' | 'bulk' {
    return this.api;
  }

  async check(signal: AbortSignal): Promise<void> {
    await this.loadFields(signal);
  }

  async describe(signal: AbortSignal): Promise<FieldSpec[]> {
    const fields = await this.loadFields(signal);
    return this.written.map((name) => fieldSpec(fields.get(name)!));
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const fields = await this.loadFields(ctx.signal, ctx);
    const setup: WriteSetup = { destination: this.name, client: this.client, object: this.options.object, externalIdField: this.externalIdField, fields };
    const results: RecordResult[] = [];
    for (const [op, changes] of groupByOperation(batch)) {
      results.push(...(this.api === 'bulk'
        ? await writeBulk(setup, ctx, op, changes, this.timing)
        : await writeCollections(setup, ctx, op, changes)));
    }
    return results;
  }

  async close(): Promise<void> {}

  /** The object's describe, once per destination; a wrong object or field fails here, as config. */
  private loadFields(signal: AbortSignal, scope?: CallScope): Promise<Map<string, SalesforceField>> {
    if (!this.fields) {
      const path = `/sobjects/${this.options.object}/describe`;
      this.fields = this.client.request<SalesforceObjectDescription>(scope ?? unmetered(signal), 'GET', path)
        .then(({ body }) => checkFields(this.name, body, this.written, this.externalIdField))
        .catch((error: unknown) => {
          this.fields = undefined;
          if (error instanceof SyncError && error.status === 404) {
            throw new SyncError('config', `destination "${this.name}": Salesforce has no object ${this.options.object} (or the integration user cannot see it); fix the sync's object`, { status: 404, code: error.code });
          }
          throw error;
        });
    }
    return this.fields;
  }
}

function groupByOperation(batch: Change[]): Map<Operation, Change[]> {
  const groups = new Map<Operation, Change[]>();
  for (const change of batch) {
    const group = groups.get(change.op);
    if (group) group.push(change);
    else groups.set(change.op, [change]);
  }
  return groups;
}
