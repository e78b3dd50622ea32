import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, READ_TOKEN, startServerFixture } from './server-fixture.ts';

let fx: Awaited<ReturnType<typeof startServerFixture>>;
beforeAll(async () => { fx = await startServerFixture({ ui: true }); }, 120_000);
afterAll(() => fx?.close());

/** What every answer must carry, page or API, success or error. */
function expectSecurityHeaders(headers: Headers, what: string): void {
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp, what).toMatch(/(^|; )default-src 'self'(;|$)/);
  expect(csp, what).toMatch(/(^|; )script-src 'self'(;|$)/);
  expect(csp, what).toMatch(/(^|; )frame-ancestors 'none'(;|$)/);
  expect(csp, what).toMatch(/(^|; )object-src 'none'(;|$)/);
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(headers.get('x-frame-options'), what).toBe('DENY');
  expect(headers.get('referrer-policy'), what).toBe('no-referrer');
}

describe('security headers on every answer', () => {
  it('the web UI, its assets, the API (200, 401, 404), OpenAPI and metrics', async () => {
    const page = await fx.call('GET', '/', null);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<div id="root">');
    expectSecurityHeaders(page.headers, 'GET /');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.text)![1]!;
    const asset = await fx.call('GET', `/${script}`, null);
    expect(asset.status).toBe(200);
    expectSecurityHeaders(asset.headers, `GET /${script}`);

    for (const [route, token, status] of [
      ['/api/syncs', READ_TOKEN, 200], ['/api/syncs', null, 401], ['/api/syncs/nope', ADMIN_TOKEN, 404],
      ['/openapi.json', null, 200], ['/metrics', null, 200], ['/no/such/page', null, 404],
    ] as const) {
      const answer = await fx.call('GET', route, token);
      expect(answer.status, route).toBe(status);
      expectSecurityHeaders(answer.headers, `GET ${route}`);
    }
  });

  it('a body over the limit is answered 413 Payload Too Large, with the headers too', async () => {
    const answer = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, { fullResync: false, padding: 'x'.repeat(2 * 1024 * 1024) });
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expectSecurityHeaders(answer.headers, 'POST 2 MB');
    // Other client errors keep their own names.
    const bad = await fx.call('POST', '/api/syncs/prices_to_engine/runs', ADMIN_TOKEN, { fullResync: 'yes please' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });
});
