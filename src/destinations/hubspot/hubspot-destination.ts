import { createHash } from 'node:crypto';
import type { SyncConfig } from '../../config/project.ts';
import type {
  Capabilities, Change, Destination, DestinationInit, FieldSpec, Operation, RecordResult, WriteContext,
} from '../destination.ts';
import { SyncError } from '../../errors.ts';
import {
  collapseDuplicates, createInputs, identifierOf, settle, updateInputs, upsertInputs, type BatchAnswer, type Properties,
} from './hubspot-batch.ts';
import { DEFAULT_BASE_URL, HubspotClient } from './hubspot-client.ts';
import { rejectionOf } from './hubspot-errors.ts';
import { canIdentifyBy, fieldSpecOf, formatValue, isReadOnly, type HubspotProperty } from './hubspot-properties.ts';
import type { HubspotConnection, HubspotSyncOptions } from './hubspot-type.ts';

/** Built-in object types by name; custom objects are addressed by their `2-…` type id. */
const STANDARD_TYPE_IDS: Record<string, string> = { contacts: '0-1', companies: '0-2', deals: '0-3' };

/**
 * HubSpot CRM objects through the v3 batch endpoints: create, update, upsert (by a
 * unique-value property) and archive, 100 records per request. write() sends the requests a
 * batch needs (a mirror batch: read, archive and upsert), each under its own permit of the
 * engine's budget, which paces and retries them, and says what became of every row.
 */
export class HubspotDestination implements Destination {
  readonly type = 'hubspot';
  readonly name: string;
  readonly capabilities: Capabilities;
  readonly budgetKey: string;
  private readonly client: HubspotClient;
  private readonly object: string;
  private readonly typeId: string | undefined;
  private readonly sync: SyncConfig;
  private properties?: Promise<Properties>;

  constructor(init: DestinationInit<HubspotConnection, HubspotSyncOptions>) {
    const baseUrl = (init.connection.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.name = init.connection.name;
    this.sync = init.sync;
    this.object = init.options.object;
    this.typeId = STANDARD_TYPE_IDS[this.object] ?? (/^\d+-\d+$/.test(this.object) ? this.object : undefined);
    this.client = new HubspotClient(baseUrl, init.connection.token, this.name);
    // The portal's limits follow the token: syncs sharing it share one budget. Only a hash of it is kept.
    this.budgetKey = `hubspot:${baseUrl}#${createHash('sha256').update(init.connection.token).digest('hex').slice(0, 16)}`;
    this.capabilities = {
      operations: ['insert', 'update', 'upsert', 'delete'],
      maxBatchSize: 100,
      // Private apps on Free/Starter get 100 requests per 10 s (190 on Professional and up);
      // the X-HubSpot-RateLimit-* headers tell the engine the portal's real window.
      rateLimit: { requestsPerSecond: 10, windowMs: 10_000 },
      // batch/create answers 207 per input; update and upsert refuse the whole batch for one bad row.
      perRecordResults: init.sync.mode === 'insert',
    };
  }

  /** Token, object and mapping in one request (answered from describe()'s request when it ran). */
  async check(signal: AbortSignal): Promise<void> {
    this.verifyMapping(await this.loadProperties(signal));
  }

  async describe(signal: AbortSignal): Promise<FieldSpec[]> {
    const properties = await this.loadProperties(signal);
    this.verifyMapping(properties);
    return this.writtenProperties().map((name) => fieldSpecOf(properties.get(name)!));
  }

  async write(batch: Change[], ctx: WriteContext): Promise<RecordResult[]> {
    const properties = await this.loadProperties(ctx.signal, ctx);
    const results: RecordResult[] = [];
    // A batch holds one operation, except in mirror mode where upserts and deletes may share one.
    for (const [op, changes] of groupByOperation(batch)) {
      results.push(...(op === 'delete' ? await this.archive(changes, properties, ctx) : await this.save(op, changes, properties, ctx)));
    }
    return results;
  }

  async close(): Promise<void> {}

  private async save(op: Exclude<Operation, 'delete'>, changes: Change[], properties: Properties, ctx: WriteContext): Promise<RecordResult[]> {
    const needsIdentifier = (c: Change) => op === 'upsert' || (op === 'update' && !c.destId);
    const unidentified = changes.filter((c) => needsIdentifier(c) && !identifierOf(c));
    const ready = changes.filter((c) => !unidentified.includes(c));
    const results = unidentified.map((c) => missingIdentifier(c, op));
    if (!ready.length) return results;
    if (op === 'insert') {
      return [...results, ...(await this.attempt(ready, async () => {
        const answer = await this.post<BatchAnswer>('create', { inputs: createInputs(ready, properties) }, ctx);
        return settle(ready, answer ?? {}, properties);
      }))];
    }
    const { sent, sameAs } = collapseDuplicates(ready, properties);
    if (sameAs.size) ctx.trace(`${sameAs.size} rows name the same ${this.object} as a later row of the batch: sent once, as the last of them`);
    const inputs = op === 'upsert' ? upsertInputs(sent, properties) : updateInputs(sent, properties);
    const answered = await this.attempt(sent, async () => settle(sent, (await this.post<BatchAnswer>(op, { inputs }, ctx)) ?? {}, properties));
    const byKey = new Map(answered.map((r) => [r.key, r]));
    return [...results, ...answered, ...[...sameAs].map(([row, kept]) => ({ ...byKey.get(kept.key)!, key: row.key }))];
  }

  /** batch/archive by HubSpot id; ids not remembered are looked up first with batch/read. */
  private async archive(changes: Change[], properties: Properties, ctx: WriteContext): Promise<RecordResult[]> {
    const ids = new Map<Change, string>();
    for (const c of changes) if (c.destId) ids.set(c, c.destId);
    const lookup = changes.filter((c) => !c.destId && identifierOf(c));
    if (lookup.length) {
      const idProperty = identifierOf(lookup[0]!)!.idProperty;
      const values = lookup.map((c) => formatValue(identifierOf(c)!.value, properties.get(idProperty)));
      const answer = await this.post<BatchAnswer>('read', { idProperty, properties: [idProperty], inputs: [...new Set(values)].map((id) => ({ id })) }, ctx);
      const found = new Map<string, string>();
      for (const r of answer?.results ?? []) {
        const value = r.properties?.[idProperty];
        if (value) found.set(idProperty === 'email' ? value.toLowerCase() : value, r.id);
      }
      lookup.forEach((c, i) => {
        const id = found.get(idProperty === 'email' ? values[i]!.toLowerCase() : values[i]!);
        if (id) ids.set(c, id);
      });
      ctx.trace(`looked up ${lookup.length} ${this.object} by ${idProperty}: ${found.size} found, the rest are already gone`);
    }
    const unique = [...new Set(ids.values())];
    if (unique.length) await this.post('archive', { inputs: unique.map((id) => ({ id })) }, ctx);
    // Archived now, or not in HubSpot at all: either way the record is gone.
    return changes.map((c) => (c.destId || identifierOf(c) ? { key: c.key, outcome: 'delivered' } : missingIdentifier(c, 'delete')));
  }

  /** A request that carried a single record and was refused for good is that record's rejection. */
  private async attempt(changes: Change[], send: () => Promise<RecordResult[]>): Promise<RecordResult[]> {
    try {
      return await send();
    } catch (error) {
      if (changes.length === 1 && error instanceof SyncError && error.kind === 'terminal') {
        return [{ key: changes[0]!.key, outcome: 'rejected', rejection: rejectionOf(error) }];
      }
      throw error;
    }
  }

  private async post<T>(action: string, body: unknown, ctx: WriteContext): Promise<T | undefined> {
    const path = `/crm/v3/objects/${encodeURIComponent(this.object)}/batch/${action}`;
    const answer = await ctx.request(() => this.client.request<T>('POST', path, body, { signal: ctx.signal, observe: (l) => ctx.observeLimits(l) }));
    ctx.status?.(answer.status);
    return answer.body;
  }

  private loadProperties(signal: AbortSignal, ctx?: WriteContext): Promise<Properties> {
    this.properties ??= (async () => {
      const path = `/crm/v3/properties/${encodeURIComponent(this.object)}`;
      const read = () => this.client.request<{ results?: HubspotProperty[] }>('GET', path, undefined, {
        signal, observe: ctx ? (l) => ctx.observeLimits(l) : undefined,
      });
      try {
        const answer = await (ctx ? ctx.request(read) : read());
        return new Map((answer.body?.results ?? []).map((p) => [p.name, p]));
      } catch (error) {
        if (error instanceof SyncError && error.kind === 'terminal') {
          throw new SyncError('config', `${error.message}; check the sync's "object" (contacts, companies, deals or a custom object type id like 2-1234567)`, {
            code: error.code, status: error.status, cause: error,
          });
        }
        throw error;
      }
    })();
    this.properties.catch(() => { this.properties = undefined; }); // a failed load is asked again next time
    return this.properties;
  }

  /** Every property the sync writes: the mapped ones and the match identifier. */
  private writtenProperties(): string[] {
    return [...new Set([...Object.values(this.sync.match), ...Object.keys(this.sync.mapping)])];
  }

  /** Mapping mistakes found before any row is sent: they would refuse every row. */
  private verifyMapping(properties: Properties): void {
    const where = `destination "${this.name}" (HubSpot ${this.object}), sync "${this.sync.name}"`;
    const unknown = this.writtenProperties().filter((name) => !properties.has(name));
    if (unknown.length) {
      throw new SyncError('config', `${where}: HubSpot has no propert${unknown.length > 1 ? 'ies' : 'y'} ${unknown.map((n) => `"${n}"`).join(', ')}; create ${unknown.length > 1 ? 'them' : 'it'} in HubSpot or fix the mapping (property names, not labels)`, { code: 'PROPERTY_DOESNT_EXIST', field: unknown[0] });
    }
    const readOnly = Object.keys(this.sync.mapping).filter((name) => isReadOnly(properties.get(name)!));
    if (readOnly.length) {
      throw new SyncError('config', `${where}: ${readOnly.map((n) => `"${n}"`).join(', ')} ${readOnly.length > 1 ? 'are' : 'is'} read-only in HubSpot; remove ${readOnly.length > 1 ? 'them' : 'it'} from the mapping`, { code: 'READ_ONLY_VALUE', field: readOnly[0] });
    }
    if (this.sync.mode === 'insert') return;
    const match = Object.values(this.sync.match);
    if (match.length !== 1) {
      throw new SyncError('config', `${where}: HubSpot finds records by one property; match has ${match.length} (${match.join(', ') || 'none'})`, { code: 'MATCH' });
    }
    const idProperty = match[0]!;
    const byRecordId = idProperty === 'hs_object_id' && this.sync.mode === 'update';
    if (!byRecordId && !canIdentifyBy(this.typeId, properties.get(idProperty))) {
      throw new SyncError('config', `${where}: "${idProperty}" cannot identify records: HubSpot ${this.sync.mode === 'update' ? 'updates' : 'upserts'} by a property with unique values${this.typeId === '0-1' ? ' (or a contact\'s email)' : ''}. Mark it "unique" in HubSpot or match on another property`, { code: 'NON_UNIQUE_ID_PROPERTY', field: idProperty });
    }
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

const PAST: Record<Operation, string> = { insert: 'inserted', update: 'updated', upsert: 'upserted', delete: 'archived' };

function missingIdentifier(change: Change, op: Operation): RecordResult {
  return {
    key: change.key,
    outcome: 'rejected',
    rejection: { category: 'missing_identifier', code: 'MISSING_ID', message: `no value to find the HubSpot record by, so it cannot be ${PAST[op]}`, retryable: false },
  };
}
