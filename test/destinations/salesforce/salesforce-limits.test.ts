import { afterEach, describe, expect, it } from 'vitest';
import type { RecordResult } from '../../../src/destinations/destination.ts';
import { SyncError } from '../../../src/errors.ts';
import type { FakeSalesforce } from '../../fakes/salesforce/fake-salesforce.ts';
import { outcomes, run } from '../../delivery/delivery-kit.ts';
import { byKey, contact, contactDestination, recordingContext, startOrg } from './salesforce-harness.ts';

let fake: FakeSalesforce;
afterEach(() => fake?.close());

const rejection = (result: RecordResult | undefined) => (result?.outcome === 'rejected' ? result.rejection : undefined);
const caught = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error as SyncError);

describe('Salesforce quotas and locks', () => {
  it('reports Sforce-Limit-Info of every answer to the run, with when it came', async () => {
    ({ fake } = await startOrg({ dailyApiLimit: 100_000 }));
    const ctx = recordingContext();
    const before = Date.now();
    await contactDestination(fake).write([contact('upsert', 'ada@example.com')], ctx);
    expect(ctx.limits.map(({ at, ...usage }) => usage)).toEqual([
      { dailyLimit: 100_000, dailyRemaining: 99_999 },
      { dailyLimit: 100_000, dailyRemaining: 99_998 },
    ]);
    for (const { at } of ctx.limits) expect(at).toBeGreaterThanOrEqual(before);
  });

  // The quota is the engine's budget's to watch: the destination only reports what Salesforce says.
  describe('through the delivery engine', () => {
    const contacts = (count: number) => Array.from({ length: count }, (_, n) => contact('upsert', `c${n}@example.com`));

    it('REQUEST_LIMIT_EXCEEDED (403) stops the run cleanly: kind quota, nothing written, the rows counted', async () => {
      ({ fake } = await startOrg({ dailyApiLimit: 15_000 }));
      const destination = contactDestination(fake);
      await destination.check(AbortSignal.timeout(5000));
      fake.apiUsed = 15_000; // the org's other integrations used it all
      const d = await run(contacts(1_200), { destination, batchSize: 200, rateLimit: { concurrency: 1 } });
      expect(d.error).toBeInstanceOf(SyncError);
      expect(d.error).toMatchObject({ kind: 'quota', code: 'REQUEST_LIMIT_EXCEEDED' });
      expect((d.error as Error).message).toBe(
        'destination "crm": Salesforce answered REQUEST_LIMIT_EXCEEDED (daily API quota used: 15,000/15,000); the run stopped, 1,200 rows wait for the next run',
      );
      expect(fake.records('Contact')).toHaveLength(0);
    });

    it('stops before the first write when check() saw the daily remaining down to the reserve', async () => {
      ({ fake } = await startOrg({ dailyApiLimit: 15_000 }));
      fake.apiUsed = 14_949;
      const destination = contactDestination(fake);
      await destination.check(AbortSignal.timeout(5000)); // the describe: 14,950 of 15,000 used
      const d = await run(contacts(1_234), { destination, batchSize: 200 });
      expect(d.error).toMatchObject({ kind: 'quota' });
      expect((d.error as Error).message).toBe(
        'destination "crm": the daily API quota is nearly used up (14,950 of 15,000 used, 300 kept in reserve); the run stopped, 1,234 rows wait for the next run',
      );
      expect(fake.calls(/\/composite\//)).toHaveLength(0);
    });

    it('quotaReserve: 0 lets a run use the quota to the end', async () => {
      ({ fake } = await startOrg({ dailyApiLimit: 15_000 }));
      fake.apiUsed = 14_990;
      const destination = contactDestination(fake, { connection: { quotaReserve: 0 } });
      await destination.check(AbortSignal.timeout(5000));
      const d = await run(contacts(400), { destination, batchSize: 200 });
      expect(d.error).toBeUndefined();
      expect(outcomes(d)).toEqual({ delivered: 400, rejected: 0 });
    });
  });

  it('UNABLE_TO_LOCK_ROW on one record is a retryable rejection of that record only', async () => {
    ({ fake } = await startOrg());
    fake.lockRows((record) => record.Email === 'busy@example.com', 1);
    const destination = contactDestination(fake);
    const results = byKey(await destination.write([contact('upsert', 'busy@example.com'), contact('upsert', 'free@example.com')], recordingContext()));
    expect(rejection(results.get('busy@example.com'))).toMatchObject({ category: 'destination_error', code: 'UNABLE_TO_LOCK_ROW', retryable: true });
    expect(results.get('free@example.com')?.outcome).toBe('delivered');
    // The lock is gone: the next try delivers it.
    const retried = await destination.write([contact('upsert', 'busy@example.com')], recordingContext());
    expect(retried[0].outcome).toBe('delivered');
  });

  it('UNABLE_TO_LOCK_ROW in a Bulk job is a retryable rejection of that row', async () => {
    ({ fake } = await startOrg({ bulkPollsToComplete: 1 }));
    fake.lockRows((record) => record.Email === 'busy@example.com');
    const destination = contactDestination(fake, { options: { api: 'bulk' } });
    const results = byKey(await destination.write([contact('upsert', 'busy@example.com'), contact('upsert', 'free@example.com')], recordingContext()));
    expect(rejection(results.get('busy@example.com'))).toMatchObject({ code: 'UNABLE_TO_LOCK_ROW', retryable: true });
    expect(results.get('free@example.com')?.outcome).toBe('delivered');
  });

  it('a whole request refused with UNABLE_TO_LOCK_ROW or a 503 is transient (the engine retries)', async () => {
    ({ fake } = await startOrg());
    const destination = contactDestination(fake);
    await destination.check(AbortSignal.timeout(5000));
    fake.failNext(
      { status: 400, errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record' },
      { status: 503, errorCode: 'SERVER_UNAVAILABLE', message: 'Server temporarily unavailable' },
    );
    const first = await caught(destination.write([contact('upsert', 'ada@example.com')], recordingContext()));
    expect(first?.kind).toBe('transient');
    expect(first?.code).toBe('UNABLE_TO_LOCK_ROW');
    const second = await caught(destination.write([contact('upsert', 'ada@example.com')], recordingContext()));
    expect(second?.kind).toBe('transient');
    expect(second?.status).toBe(503);
    expect((await destination.write([contact('upsert', 'ada@example.com')], recordingContext()))[0].outcome).toBe('delivered');
  });

  it('an unknown field reaching Salesforce (400 INVALID_FIELD for the whole request) is a config error', async () => {
    ({ fake } = await startOrg());
    const destination = contactDestination(fake);
    const error = await caught(destination.write([{ key: 'k', op: 'upsert', match: { Email: 'k@example.com' }, fields: { LastName: 'K', Nickname__c: 'kk' } }], recordingContext()));
    expect(error?.kind).toBe('config');
    expect(error?.message).toContain("No such column 'Nickname__c' on sobject of type Contact");
  });
});
