import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { requestInspector } from '../../../src/delivery/request-inspector.ts';
import type { FakeSalesforce } from '../../fakes/salesforce/fake-salesforce.ts';
import { CLIENT, contact, contactDestination, recordingContext, startOrg } from './salesforce-harness.ts';

let fake: FakeSalesforce;
beforeEach(async () => { ({ fake } = await startOrg()); });
afterEach(() => fake.close());

describe('Salesforce requests in the request inspector', () => {
  it('shows the sign-in, the describe and the upsert with their answers, and no credential', async () => {
    const destination = contactDestination(fake);
    const { requests } = await requestInspector.captured(() => destination.write([contact('upsert', 'ada@example.com', { LastName: 'King' })], recordingContext()));
    expect(requests.map((r) => `${r.method} ${r.url.replace(fake.url, '')} ${r.status}`)).toEqual([
      'POST /services/oauth2/token 200',
      expect.stringMatching(/^GET \/services\/data\/v[\d.]+\/sobjects\/Contact\/describe 200$/),
      expect.stringMatching(/^PATCH \/services\/data\/v[\d.]+\/composite\/sobjects\/Contact\/Email 200$/),
    ]);
    // The sign-in's bodies are the grant and the token: neither is kept.
    expect(requests[0]).toMatchObject({ requestBody: '(sign-in form: not kept)', responseBody: '(token answer: not kept)' });
    expect(requests[2]!.requestHeaders).toMatchObject({ authorization: '***' });
    expect(requests[2]!.requestBody).toContain('"Email":"ada@example.com"');
    expect(requests[2]!.responseBody).toContain('"success":true');
    const everything = JSON.stringify(requestInspector.list('crm'));
    expect(everything).not.toContain(CLIENT.clientSecret);
    expect(everything).not.toContain('00D5g00000FAKE!'); // every access token the fake issues starts so
    await destination.close();
  });
});
