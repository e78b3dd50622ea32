import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordResult } from '../../../src/destinations/destination.ts';
import { SyncError } from '../../../src/errors.ts';
import type { FakeSalesforce } from '../../fakes/salesforce/fake-salesforce.ts';
import { maxInWindow } from '../../fakes/http/fake-http-process.ts';
import { outcomes, run } from '../../delivery/delivery-kit.ts';
import { byKey, contact, contactDestination, recordingContext, startOrg } from './salesforce-harness.ts';

let fake: FakeSalesforce;
beforeEach(async () => { ({ fake } = await startOrg({ bulkPollsToComplete: 3 })); });
afterEach(() => fake.close());

const rejection = (result: RecordResult | undefined) => (result?.outcome === 'rejected' ? result.rejection : undefined);

describe('Salesforce Bulk API 2.0', () => {
  it('upserts through one ingest job and turns failedResults into per-record outcomes', async () => {
    const destination = contactDestination(fake, { options: { api: 'bulk' } });
    destination.planFor(1_000);
    const existing = fake.seed('Contact', { LastName: 'Lovelace', Email: 'ada@example.com' });
    const batch = [
      contact('upsert', 'ada@example.com', { LastName: 'King', FirstName: null }),
      ...Array.from({ length: 996 }, (_, index) => contact('upsert', `row${index}@example.com`, { Score__c: index, Birthdate: '2000-01-01' })),
      contact('upsert', 'long@example.com', { LastName: 'y'.repeat(90) }),
      contact('upsert', 'bad-email'),
      contact('upsert', 'score@example.com', { Score__c: 'lots' }),
    ];
    const ctx = recordingContext();
    const results = byKey(await destination.write(batch, ctx));

    expect(results.size).toBe(1_000);
    expect([...results.values()].filter((result) => result.outcome === 'delivered')).toHaveLength(997);
    expect(results.get('ada@example.com')).toEqual({ key: 'ada@example.com', outcome: 'delivered', destId: existing });
    const row5 = results.get('row5@example.com');
    expect(row5?.outcome === 'delivered' && row5.destId).toBe(fake.records('Contact').find((record) => record.Email === 'row5@example.com')?.Id);
    expect(rejection(results.get('long@example.com'))).toMatchObject({ category: 'schema_mismatch', code: 'STRING_TOO_LONG', field: 'LastName', retryable: false });
    expect(rejection(results.get('long@example.com'))?.message).toMatch(/^Last Name: data value too large/);
    expect(rejection(results.get('bad-email'))).toMatchObject({ category: 'schema_mismatch', code: 'INVALID_EMAIL_ADDRESS', field: 'Email' });
    expect(rejection(results.get('score@example.com'))).toMatchObject({ category: 'schema_mismatch', code: 'INVALID_TYPE_ON_FIELD_IN_RECORD', field: 'Score__c' });

    // #N/A cleared FirstName; the update kept the record's Id.
    expect(fake.records('Contact').find((record) => record.Id === existing)).toMatchObject({ LastName: 'King', FirstName: null });
    expect(fake.records('Contact')).toHaveLength(997);

    const paths = fake.calls().map((request) => `${request.method} ${request.path.replace(/^\/services\/data\/v62\.0/, '').replace(/750[A-Za-z0-9]+/, '{job}')}`);
    expect(paths).toEqual([
      'GET /sobjects/Contact/describe',
      'POST /jobs/ingest',
      'PUT /jobs/ingest/{job}/batches',
      'PATCH /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}',
      'GET /jobs/ingest/{job}/failedResults/',
      'GET /jobs/ingest/{job}/successfulResults/',
    ]);
    expect(ctx.apiCalls).toBe(10); // the nine above and the token
    expect(ctx.traces.some((line) => /Bulk job 750\w+: JobComplete, 1,000 processed, 3 failed/.test(line))).toBe(true);
  });

  it('polls a job when its progress says it will be done, not at fixed steps', async () => {
    await fake.close();
    ({ fake } = await startOrg({ bulkRowsPerSecond: 4_000 })); // 8,000 rows: about 2 s of processing
    const destination = contactDestination(fake, { options: { api: 'bulk' }, timing: { pollMs: 200, maxPollMs: 5_000 } });
    destination.planFor(8_000);
    const batch = Array.from({ length: 8_000 }, (_, index) => contact('upsert', `row${index}@example.com`));
    const results = await destination.write(batch, recordingContext());

    expect(results.filter((result) => result.outcome === 'delivered')).toHaveLength(8_000);
    const polls = fake.calls().filter((request) => /\/jobs\/ingest\/750\w+$/.test(request.path) && request.method === 'GET');
    // Waits growing by half from 200 ms would take five polls to pass 2 s; the job's pace takes two.
    expect(polls.length).toBeLessThanOrEqual(3);
  });

  it('every request of a job, each poll included, takes a permit of the budget: a configured rate holds, counted by the org', async () => {
    await fake.close();
    ({ fake } = await startOrg({ bulkPollsToComplete: 6 }));
    const destination = contactDestination(fake, { options: { api: 'bulk' } }); // polls 1-5 ms apart if nothing held them
    await destination.check(AbortSignal.timeout(5_000));
    const sent = fake.calls().length;
    const d = await run(Array.from({ length: 50 }, (_, n) => contact('upsert', `paced${n}@example.com`)), { destination, batchSize: 50, rateLimit: { requestsPerSecond: 4 } });
    expect(outcomes(d)).toEqual({ delivered: 50, rejected: 0 });
    const job = fake.calls().slice(sent);
    expect(job.filter((request) => request.method === 'GET' && /\/jobs\/ingest\/750\w+$/.test(request.path))).toHaveLength(6);
    // create, upload, close, six polls, successfulResults: ten requests, never more than 4 in a second.
    expect(d.stats).toMatchObject({ requests: 10, apiCalls: 10 });
    expect(job).toHaveLength(10);
    expect(maxInWindow(job, 1_000)).toBeLessThanOrEqual(4);
  });

  it('inserts match results back to rows by their content, whatever order Salesforce answers in', async () => {
    const destination = contactDestination(fake, { mode: 'insert', options: { api: 'bulk' } });
    destination.planFor(10);
    const batch = Array.from({ length: 10 }, (_, index) => contact('insert', `ins${index}@example.com`));
    batch[4] = contact('insert', 'ins4@example.com', { Level__c: 'Nope' });
    const results = byKey(await destination.write(batch, recordingContext()));
    for (let index = 0; index < 10; index++) {
      const result = results.get(`ins${index}@example.com`);
      if (index === 4) {
        expect(rejection(result)).toMatchObject({ code: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', field: 'Level__c' });
        continue;
      }
      const stored = fake.records('Contact').find((record) => record.Email === `ins${index}@example.com`);
      expect(result).toEqual({ key: `ins${index}@example.com`, outcome: 'delivered', destId: stored?.Id });
    }
  });

  it('updates and deletes by Id without reading successfulResults when nothing failed', async () => {
    const destination = contactDestination(fake, { mode: 'mirror', options: { api: 'bulk' } });
    destination.planFor(3);
    const a = fake.seed('Contact', { LastName: 'A', Email: 'a@example.com' });
    const b = fake.seed('Contact', { LastName: 'B', Email: 'b@example.com' });
    fake.seed('Contact', { LastName: 'C', Email: 'c@example.com' });
    const results = byKey(await destination.write([
      contact('update', 'a@example.com', { LastName: 'A2' }, a),
      contact('delete', 'b@example.com', {}, b),
      contact('delete', 'c@example.com'),
    ], recordingContext()));
    expect(results.get('a@example.com')).toEqual({ key: 'a@example.com', outcome: 'delivered', destId: a });
    expect(results.get('b@example.com')).toEqual({ key: 'b@example.com', outcome: 'delivered', destId: b });
    expect(results.get('c@example.com')?.outcome).toBe('delivered');
    expect(fake.records('Contact').map((record) => record.LastName)).toEqual(['A2']);
    expect(fake.calls(/successfulResults/)).toHaveLength(0);
    expect(fake.calls(/failedResults/)).toHaveLength(0);
    expect(fake.calls(/\/jobs\/ingest$/)).toHaveLength(2); // one job per operation
  });

  it('a job that fails as a whole (a column Salesforce does not know) is a config error', async () => {
    const destination = contactDestination(fake, { options: { api: 'bulk' } });
    await destination.check(AbortSignal.timeout(5000));
    const error = await destination.write([{ key: 'k', op: 'upsert', match: { Email: 'k@example.com' }, fields: { LastName: 'K', Nickname__c: 'kk' } }], recordingContext())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SyncError);
    expect((error as SyncError).kind).toBe('config');
    expect((error as SyncError).message).toContain('InvalidBatch : Field name not found : Nickname__c');
  });

  it('api auto switches to Bulk above bulkThreshold and says so through maxBatchSize', async () => {
    const destination = contactDestination(fake, { options: { api: 'auto', bulkThreshold: 500, bulkJobSize: 20_000 } });
    destination.planFor(500);
    expect(destination.capabilities.maxBatchSize).toBe(200);
    expect(destination.activeApi).toBe('rest');
    destination.planFor(501);
    expect(destination.capabilities.maxBatchSize).toBe(20_000);
    expect(destination.activeApi).toBe('bulk');
    const results = await destination.write(Array.from({ length: 501 }, (_, index) => contact('upsert', `auto${index}@example.com`)), recordingContext());
    expect(results.filter((result) => result.outcome === 'delivered')).toHaveLength(501);
    expect(fake.calls(/\/jobs\/ingest$/)).toHaveLength(1);
    expect(fake.calls(/\/composite\//)).toHaveLength(0);
  });

  it('the fake takes one upload per job, as Bulk API 2.0 does', async () => {
    const token = await (await fetch(`${fake.url}/services/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: '3MVG9fake.consumer.key', client_secret: 'sf-secret-5b1e0c7d' }) })).json() as { access_token: string };
    const call = (method: string, path: string, body?: string, type = 'application/json') =>
      fetch(`${fake.url}/services/data/v62.0${path}`, { method, body, headers: { authorization: `Bearer ${token.access_token}`, 'content-type': type } });
    const job = await (await call('POST', '/jobs/ingest', JSON.stringify({ object: 'Contact', operation: 'insert', contentType: 'CSV', lineEnding: 'LF' }))).json() as { id: string; state: string };
    expect(job.state).toBe('Open');
    expect((await call('PUT', `/jobs/ingest/${job.id}/batches`, 'LastName\nA\n', 'text/csv')).status).toBe(201);
    const second = await call('PUT', `/jobs/ingest/${job.id}/batches`, 'LastName\nB\n', 'text/csv');
    expect(second.status).toBe(400);
    expect(((await second.json()) as { errorCode: string }[])[0].errorCode).toBe('INVALIDJOBSTATE');
  });
});
