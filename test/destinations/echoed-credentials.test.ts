import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/errors.ts';
import type { HubspotFake } from '../fakes/hubspot/hubspot-fake.ts';
import { change, hubspotFor, recordingContext } from './hubspot/hubspot-test-kit.ts';
import { contact, contactDestination } from './salesforce/salesforce-harness.ts';
import type { FakeSalesforce } from '../fakes/salesforce/fake-salesforce.ts';

const ACCESS_TOKEN = '00D5g00000ECHO!issued-at-sign-in-7c1d2e3f4a5b';

/**
 * A careless API: the token endpoint issues ACCESS_TOKEN, and every other request is
 * refused with a 400 whose message repeats the Authorization header it was sent.
 */
async function echoingApi(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.url === '/services/oauth2/token') return void json(200, { access_token: ACCESS_TOKEN, instance_url: url, token_type: 'Bearer' });
      const said = `request refused; it carried Authorization: ${req.headers.authorization}`;
      if (req.url?.startsWith('/services/data/')) return void json(400, [{ errorCode: 'INVALID_FIELD', message: said }]);
      json(400, { status: 'error', category: 'VALIDATION_ERROR', message: said });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function failureOf(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SyncError);
  return error as SyncError;
}

let api: Awaited<ReturnType<typeof echoingApi>>;
afterEach(() => api?.close());

describe('an answer that repeats the credentials sent has them replaced before anyone reads it', () => {
  it('HubSpot: the private app token', async () => {
    api = await echoingApi();
    const token = 'pat-na1-11111111-2222-4333-8444-555555555555';
    const dest = hubspotFor({ url: api.url, token } as HubspotFake, { object: 'contacts', mode: 'upsert', match: { email: 'email' }, fields: ['firstname'] });
    const error = await failureOf(dest.write([change('1', 'upsert', { email: 'ada@example.com' })], recordingContext()));
    expect(error.message).toContain('it carried Authorization: Bearer ***');
    expect(error.message).not.toContain(token);
  });

  it('Salesforce: the access token the sign-in issued, which no config holds', async () => {
    api = await echoingApi();
    const dest = contactDestination({ url: api.url } as FakeSalesforce);
    const error = await failureOf(dest.write([contact('upsert', 'ada@example.com')], recordingContext()));
    expect(error.message).toContain('it carried Authorization: Bearer ***');
    expect(error.message).not.toContain('issued-at-sign-in');
  });
});
