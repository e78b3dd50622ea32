import { describe, expect, it } from 'vitest';
import { secretRedactor } from '../../src/config/redact.ts';
import { BODY_EXCERPT_CHARS, REQUESTS_KEPT, RequestInspector } from '../../src/delivery/request-inspector.ts';

const SECRET = 'sk_live_abcdef123456';
const redact = secretRedactor([SECRET]);
const exchange = (destination: string, n: number) => ({
  destination, method: 'POST', url: `https://api.example.com/v1/items?n=${n}&key=${SECRET}`, startedAt: performance.now(),
  requestHeaders: { Authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
  requestBody: JSON.stringify({ n, token: SECRET }), status: 200, responseBody: `{"ok":true,"echo":"${SECRET}"}`,
});

describe('request inspector', () => {
  it('keeps the last 100 requests of each destination, newest first', () => {
    const inspector = new RequestInspector();
    for (let n = 1; n <= 250; n++) inspector.record(exchange('crm', n), redact);
    inspector.record(exchange('other', 1), redact);
    const kept = inspector.list('crm');
    expect(kept).toHaveLength(REQUESTS_KEPT);
    expect(kept.map((r) => JSON.parse(r.requestBody!).n)).toEqual(Array.from({ length: 100 }, (_, i) => 250 - i));
    expect(inspector.list('other')).toHaveLength(1);
    expect(inspector.list('nowhere')).toEqual([]);
  });

  it('replaces secrets in the URL, the headers and both bodies, and cuts long bodies', () => {
    const inspector = new RequestInspector();
    inspector.record({ ...exchange('crm', 1), responseBody: 'x'.repeat(10_000) }, redact);
    const [entry] = inspector.list('crm');
    expect(JSON.stringify(entry)).not.toContain(SECRET);
    expect(entry!.url).toBe('https://api.example.com/v1/items?n=1&key=***');
    expect(entry!.requestHeaders).toEqual({ Authorization: '***', 'content-type': 'application/json' });
    expect(entry!.requestBody).toBe('{"n":1,"token":"***"}');
    expect(entry!.responseBody).toBe(`${'x'.repeat(BODY_EXCERPT_CHARS)}… (10,000 characters)`);
  });

  it('leaks no part of a secret that lies where a long body is cut', () => {
    const inspector = new RequestInspector();
    for (const at of [BODY_EXCERPT_CHARS - 5, 2 * BODY_EXCERPT_CHARS - 5]) {
      inspector.record({ ...exchange('crm', at), requestBody: `${'a'.repeat(at)}${SECRET}${'b'.repeat(5_000)}` }, redact);
      const body = inspector.list('crm')[0]!.requestBody!;
      expect(body).not.toContain(SECRET.slice(0, 5));
      expect(body).toMatch(/… \([\d,]+ characters\)$/);
    }
  });

  it('hands a capture the requests made inside it only, even with others in flight at once', async () => {
    const inspector = new RequestInspector();
    const send = async (destination: string, n: number) => {
      await new Promise((resolve) => setTimeout(resolve, n % 3));
      inspector.record(exchange(destination, n), redact);
    };
    const [a, b] = await Promise.all([
      inspector.captured(async () => { for (let n = 0; n < 5; n++) await send('crm', n); return 'a'; }),
      inspector.captured(async () => { await Promise.all([send('crm', 100), send('crm', 101)]); return 'b'; }),
    ]);
    expect(a.result).toBe('a');
    expect(a.requests.map((r) => JSON.parse(r.requestBody!).n)).toEqual([0, 1, 2, 3, 4]);
    expect(b.requests.map((r) => JSON.parse(r.requestBody!).n).sort()).toEqual([100, 101]);
    expect(inspector.list('crm')).toHaveLength(7);
  });
});
