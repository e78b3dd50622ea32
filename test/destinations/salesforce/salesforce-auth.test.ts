import { afterEach, describe, expect, it } from 'vitest';
import { exportPKCS8, generateKeyPair } from 'jose';
import { SyncError } from '../../../src/errors.ts';
import type { FakeSalesforce } from '../../fakes/salesforce/fake-salesforce.ts';
import { CLIENT, REFRESH_TOKEN, USERNAME, contact, contactDestination, recordingContext, startOrg } from './salesforce-harness.ts';

let fake: FakeSalesforce;
afterEach(() => fake?.close());

async function refusal(promise: Promise<unknown>): Promise<SyncError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(SyncError);
  return error as SyncError;
}

describe('Salesforce sign-in', () => {
  it('client credentials: check() signs in and reads the object', async () => {
    ({ fake } = await startOrg());
    await contactDestination(fake).check(AbortSignal.timeout(5000));
    expect(fake.oauth.issued.client_credentials).toBe(1);
    expect(fake.calls(/\/sobjects\/Contact\/describe$/)).toHaveLength(1);
  });

  it('JWT bearer: an RS256 assertion with iss, sub, aud and exp the org verifies', async () => {
    let privateKeyPem: string;
    ({ fake, privateKeyPem } = await startOrg({ jwt: true }));
    const destination = contactDestination(fake, { auth: { clientId: CLIENT.clientId, username: USERNAME, privateKey: privateKeyPem } });
    const results = await destination.write([contact('upsert', 'ada@example.com')], recordingContext());
    expect(results[0].outcome).toBe('delivered');
    expect(fake.oauth.issued['urn:ietf:params:oauth:grant-type:jwt-bearer']).toBe(1);
  });

  it('JWT bearer signed with a key the app does not know is a config error', async () => {
    ({ fake } = await startOrg({ jwt: true }));
    const stranger = await generateKeyPair('RS256', { extractable: true });
    const destination = contactDestination(fake, { auth: { clientId: CLIENT.clientId, username: USERNAME, privateKey: await exportPKCS8(stranger.privateKey) } });
    const error = await refusal(destination.check(AbortSignal.timeout(5000)));
    expect(error.kind).toBe('config');
    expect(error.message).toContain('invalid_grant');
    expect(error.message).toContain('auth.privateKey');
  });

  it('JWT bearer for a user the app was not approved for is a config error', async () => {
    let privateKeyPem: string;
    ({ fake, privateKeyPem } = await startOrg({ jwt: true }));
    const destination = contactDestination(fake, { auth: { clientId: CLIENT.clientId, username: 'someone@else.com', privateKey: privateKeyPem } });
    const error = await refusal(destination.check(AbortSignal.timeout(5000)));
    expect(error.kind).toBe('config');
    expect(error.message).toContain("user hasn't approved this consumer");
  });

  it('refresh token: exchanges the refresh token for an access token', async () => {
    ({ fake } = await startOrg());
    const destination = contactDestination(fake, { auth: { clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, refreshToken: REFRESH_TOKEN } });
    await destination.check(AbortSignal.timeout(5000));
    expect(fake.oauth.issued.refresh_token).toBe(1);
  });

  it('a wrong client secret is a config error that does not show the secret', async () => {
    ({ fake } = await startOrg());
    const wrongSecret = 'not-the-secret-93ac1f';
    const error = await refusal(contactDestination(fake, { auth: { clientId: CLIENT.clientId, clientSecret: wrongSecret } }).check(AbortSignal.timeout(5000)));
    expect(error.kind).toBe('config');
    expect(error.message).toMatch(/^destination "crm": Salesforce refused the client credentials sign-in .*invalid_client/);
    expect(error.message).not.toContain(wrongSecret);
    expect(error.message).not.toContain(CLIENT.clientSecret);
  });

  it('a revoked refresh token is a config error that does not show the token', async () => {
    ({ fake } = await startOrg());
    const error = await refusal(contactDestination(fake, { auth: { clientId: CLIENT.clientId, refreshToken: 'revoked-token-77' } }).check(AbortSignal.timeout(5000)));
    expect(error.kind).toBe('config');
    expect(error.message).toContain('expired access/refresh token');
    expect(error.message).not.toContain('revoked-token-77');
  });

  it('an expired session (401 INVALID_SESSION_ID) gets one fresh token and the write goes through', async () => {
    ({ fake } = await startOrg());
    const destination = contactDestination(fake);
    await destination.write([contact('upsert', 'ada@example.com')], recordingContext());
    fake.expireTokens();
    const ctx = recordingContext();
    const results = await destination.write([contact('upsert', 'grace@example.com')], ctx);
    expect(results[0].outcome).toBe('delivered');
    expect(fake.oauth.issued.client_credentials).toBe(2);
    expect(fake.requests.filter((request) => request.status === 401)).toHaveLength(1);
    // The refused request, the token request and the retried request are all counted.
    expect(ctx.apiCalls).toBe(3);
    expect(fake.records('Contact').map((record) => record.Email).sort()).toEqual(['ada@example.com', 'grace@example.com']);
  });

  it('tokens that die at once (a zero session timeout) end as a config error, not a loop', async () => {
    ({ fake } = await startOrg({ tokenTtlMs: 0 }));
    const error = await refusal(contactDestination(fake).write([contact('upsert', 'ada@example.com')], recordingContext()));
    expect(error.kind).toBe('config');
    expect(error.message).toContain('freshly issued token');
    expect(fake.oauth.issued.client_credentials).toBe(2);
  });

  it('client credentials without instanceUrl or loginUrl is a config error', async () => {
    ({ fake } = await startOrg());
    const destination = contactDestination(fake, { connection: { instanceUrl: undefined, loginUrl: undefined } });
    const error = await refusal(destination.check(AbortSignal.timeout(5000)));
    expect(error.kind).toBe('config');
    expect(error.message).toContain('needs instanceUrl');
  });

  it('two syncs to one org with one app share a budget key', async () => {
    ({ fake } = await startOrg());
    const a = contactDestination(fake);
    const b = contactDestination(fake, { object: 'Account', match: { account_number: 'Account_Number__c' }, fields: ['Name'] });
    expect(a.budgetKey).toBe(b.budgetKey);
    expect(a.budgetKey).toContain(CLIENT.clientId);
    expect(a.budgetKey).not.toContain(CLIENT.clientSecret);
  });
});
