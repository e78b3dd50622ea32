import { afterEach, describe, expect, it } from 'vitest';
import type { RecordResult } from '../../src/destinations/destination.ts';
import { SyncError } from '../../src/errors.ts';
import { FakeHttpServer } from '../fakes/http/fake-http-server.ts';
import { startHubspotFake, type HubspotFake } from '../fakes/hubspot/hubspot-fake.ts';
import type { FakeSalesforce } from '../fakes/salesforce/fake-salesforce.ts';
import { changes, httpDestination, outcomes, run } from '../delivery/delivery-kit.ts';
import { change, hubspotFor } from './hubspot/hubspot-test-kit.ts';
import { recordingContext } from '../helpers/write-context.ts';
import { makeSync } from './destination-test-kit.ts';
import { httpRequestDestinationType } from '../../src/destinations/http-request/http-request-type.ts';
import { contact, contactDestination, startOrg } from './salesforce/salesforce-harness.ts';

/** What a hotel Wi-Fi or a corporate proxy answers in place of the API. */
const PORTAL = { status: 200, contentType: 'text/html; charset=utf-8', body: '\n<!DOCTYPE html>\n<html><head><title>Sign in to Guest Wi-Fi</title></head><body>Accept the terms</body></html>' };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function failureOf(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SyncError);
  return error as SyncError;
}

describe('a 2xx the destination could not have meant is not a delivery', () => {
  async function endpoint() {
    const server = await new FakeHttpServer().start();
    const destination = httpDestination(`${server.url}/bulk`);
    closers.push(() => server.stop(), () => destination.close());
    return { server, destination };
  }

  it('http: an HTML page or a non-JSON body is a transient failure quoting its first line', async () => {
    const { server, destination } = await endpoint();
    server.inject(PORTAL);
    const portal = await failureOf(destination.write(changes(2), recordingContext()));
    expect(portal).toMatchObject({ kind: 'transient', status: 200, code: 'UNEXPECTED_ANSWER' });
    expect(portal.message).toMatch(/^destination "pricing_engine": POST http:\/\/127\.0\.0\.1:\d+\/bulk answered 200 OK with an HTML page, not an API answer .*: "<!DOCTYPE html>"/);

    server.inject({ status: 200, contentType: 'application/json', body: 'Service moved to https://new.example.com' });
    expect((await failureOf(destination.write(changes(1), recordingContext()))).message).toMatch(/with a application\/json body that is not JSON.*: "Service moved to https:\/\/new\.example\.com"/);
    expect(server.store.size).toBe(0);
  });

  it('http: JSON, an empty body and a plain-text "ok" still count as delivered', async () => {
    const { server, destination } = await endpoint();
    const delivered = (results: RecordResult[]) => results.every((r) => r.outcome === 'delivered');
    expect(delivered(await destination.write(changes(1), recordingContext()))).toBe(true);
    server.inject({ status: 204, contentType: 'text/plain', body: '' });
    expect(delivered(await destination.write(changes(1), recordingContext()))).toBe(true);
    server.inject({ status: 200, contentType: 'text/plain', body: 'ok' });
    expect(delivered(await destination.write(changes(1), recordingContext()))).toBe(true);
  });

  it('http, through delivery: the batch is retried, then its rows are deferred to the next run with the first line', async () => {
    const { server, destination } = await endpoint();
    server.inject(PORTAL);
    const recovered = await run(changes(3), { destination, maxAttempts: 2, rateLimit: { requestsPerSecond: 100 } });
    expect(outcomes(recovered)).toEqual({ delivered: 3, rejected: 0 });
    expect(recovered.stats?.retries).toBe(1);

    server.inject(PORTAL, PORTAL);
    const refused = await run(changes(3, undefined, 10), { destination, maxAttempts: 2, rateLimit: { requestsPerSecond: 100 } });
    expect(outcomes(refused)).toEqual({ delivered: 0, rejected: 0, deferred: 3 });
    expect(refused.results.get('k10')).toMatchObject({
      outcome: 'deferred', reason: expect.stringMatching(/^gave up after 2 attempts: .*200 OK with an HTML page.*"<!DOCTYPE html>"/),
    });
    expect(refused.traces.join('\n')).toMatch(/200 OK, retry in/);
  });

  it('http-request (templated): an HTML page answered 200 is a transient failure too', async () => {
    const server = await new FakeHttpServer().start();
    const connection = httpRequestDestinationType.connection.parse({ baseUrl: server.url, operations: { upsert: { url: '/v2/bulk-update', batchSize: 10,
      body: '[{% for r in records %}{{ r.fields | merge: op: r.op, key: r.key | json }}{% unless forloop.last %},{% endunless %}{% endfor %}]' } } });
    const destination = httpRequestDestinationType.create({
      connection: { name: 'inline', type: 'http-request', ...connection }, options: {},
      sync: makeSync('inline', 'upsert', ['id'], ['id', 'name']), rootDir: process.cwd(),
    });
    closers.push(() => server.stop(), () => destination.close());
    server.inject(PORTAL);
    const error = await failureOf(destination.write(changes(2), recordingContext()));
    expect(error).toMatchObject({ kind: 'transient', status: 200, code: 'UNEXPECTED_ANSWER' });
    expect(error.message).toMatch(/^destination "inline": POST http:\/\/127\.0\.0\.1:\d+\/v2\/bulk-update answered 200 OK with an HTML page.*"<!DOCTYPE html>"/);
    expect(server.store.size).toBe(0);
  });

  it('HubSpot: an HTML page answered 200 settles nothing', async () => {
    const fake: HubspotFake = await startHubspotFake();
    closers.push(() => fake.close());
    const dest = hubspotFor(fake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['firstname'] });
    await dest.write([change('1', 'upsert', { email: 'ada@example.com' }, { firstname: 'Ada' })], recordingContext());
    fake.failNext(200);
    const error = await failureOf(dest.write([change('2', 'upsert', { email: 'grace@example.com' }, { firstname: 'Grace' })], recordingContext()));
    expect(error).toMatchObject({ kind: 'transient', status: 200 });
    expect(error.message).toMatch(/^destination "crm": POST \/crm\/v3\/objects\/contacts\/batch\/upsert answered 200 OK with an HTML page.*"<html><body><h1>200<\/h1>HubSpot is temporarily unavailable\.<\/body><\/html>"/);
    expect(fake.store.findBy('contacts', 'email', 'grace@example.com')).toBeUndefined();
  });

  it('Salesforce: a captive portal page answered 200 settles nothing, in REST and in Bulk', async () => {
    const { fake }: { fake: FakeSalesforce } = await startOrg();
    closers.push(() => fake.close());
    const rest = contactDestination(fake);
    await rest.write([contact('upsert', 'ada@example.com')], recordingContext());
    fake.interceptNext();
    const error = await failureOf(rest.write([contact('upsert', 'grace@example.com')], recordingContext()));
    expect(error).toMatchObject({ kind: 'transient', status: 200 });
    expect(error.message).toMatch(/^destination "crm": PATCH \/composite\/sobjects\/Contact\/Email answered 200 OK with an HTML page.*"<!DOCTYPE html>"/);
    expect(fake.records('Contact').map((r) => r.Email)).toEqual(['ada@example.com']);

    // Bulk results come as CSV: those are meant.
    const bulk = contactDestination(fake, { options: { api: 'bulk' } });
    const results = await bulk.write([contact('upsert', 'alan@example.com')], recordingContext());
    expect(results.map((r) => r.outcome)).toEqual(['delivered']);
  });
});
