import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../../src/destinations/destination.ts';
import { httpRequestDestinationType } from '../../../src/destinations/http-request/http-request-type.ts';
import { SyncError } from '../../../src/errors.ts';
import { run } from '../../delivery/delivery-kit.ts';
import { BrazeFake } from '../../fakes/braze/braze-fake.ts';
import { CustomerioFake } from '../../fakes/customerio/customerio-fake.ts';
import { FakeHttpServer } from '../../fakes/http/fake-http-server.ts';
import { FakeApiServer } from '../../fakes/fake-api-server.ts';
import { IterableFake } from '../../fakes/iterable/iterable-fake.ts';
import { makeSync, recordingContext, thrown } from '../destination-test-kit.ts';
import { presetDestination } from './preset-test-kit.ts';

const upserts = (n: number, fields: (i: number) => Record<string, unknown> = () => ({}), idField = 'id', from = 1): Change[] =>
  Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return { key: `k${i}`, op: 'upsert' as const, match: { [idField]: `u${i}` }, fields: { [idField]: `u${i}`, name: `user ${i}`, ...fields(i) } as Change['fields'] };
  });

/** An http-request destination written inline (no preset), over the generic fake endpoint. */
function inline(url: string, body: string, batchSize = 10) {
  const connection = httpRequestDestinationType.connection.parse({ baseUrl: url, operations: { upsert: { url: '/v2/bulk-update', batchSize, body } } });
  return httpRequestDestinationType.create({
    connection: { name: 'inline', type: 'http-request', ...connection }, options: {},
    sync: makeSync('inline', 'upsert', ['id'], ['id', 'name']), rootDir: process.cwd(),
  });
}
const ARRAY_BODY = '[{% for r in records %}{{ r.fields | merge: op: r.op, key: r.key | json }}{% unless forloop.last %},{% endunless %}{% endfor %}]';

describe('http-request through the delivery engine', () => {
  const endpoint = new FakeHttpServer();
  const braze = new BrazeFake({ limit: { requests: 1000, windowMs: 3000 } });
  const cio = new CustomerioFake();
  const iterable = new IterableFake({ bulkRate: 100 });
  beforeAll(async () => {
    await Promise.all([endpoint.start(), braze.server.start(), cio.server.start(), iterable.server.start()]);
  });
  afterAll(async () => {
    await Promise.all([endpoint.stop(), braze.server.stop(), cio.server.stop(), iterable.server.stop()]);
  });

  it('keeps the Idempotency-Key of a batch across its retries, and gives any other batch its own', async () => {
    const destination = inline(endpoint.url, ARRAY_BODY);
    endpoint.inject({ status: 503 });
    const first = await run(upserts(10), { destination, batchSize: 10 });
    expect(first.error).toBeUndefined();
    const [failed, retried] = endpoint.log.slice(-2);
    expect(failed!.status).toBe(503);
    expect(retried!.status).toBe(200);
    expect(retried!.headers['idempotency-key']).toBe(failed!.headers['idempotency-key']);
    // The same rows in a later delivery (the next run) are a new request, not a replay.
    await run(upserts(10), { destination, batchSize: 10 });
    expect(endpoint.log.at(-1)!.headers['idempotency-key']).not.toBe(retried!.headers['idempotency-key']);
    await destination.close();
  });

  it('never sends a body its template made invalid: the row is rejected alone, the others arrive', async () => {
    // "name" written without | json: a quote in one name breaks the JSON.
    const destination = inline(endpoint.url, '[{% for r in records %}{"op":"upsert","key":"{{ r.key }}","id":"{{ r.id }}","name":"{{ r.fields.name }}"}{% unless forloop.last %},{% endunless %}{% endfor %}]');
    const before = endpoint.log.length;
    const rows = upserts(8, (i) => (i === 5 ? { name: 'say "hi"' } : {}));
    const delivered = await run(rows, { destination, batchSize: 8 });
    const rejected = delivered.results.get('k5');
    expect(rejected).toMatchObject({ outcome: 'rejected', rejection: { code: 'INVALID_JSON', category: 'invalid_row', retryable: false } });
    expect([...delivered.results.values()].filter((r) => r.outcome === 'delivered')).toHaveLength(7);
    expect(endpoint.log.slice(before).some((r) => r.body.includes('say'))).toBe(false);
    await destination.close();
  });

  it('sends form-encoded and XML bodies with their content type, one request per record when batchSize is 1', async () => {
    const wire = await new FakeApiServer(() => ({ status: 204 })).start();
    const connection = httpRequestDestinationType.connection.parse({
      baseUrl: wire.url,
      operations: {
        upsert: { method: 'PUT', url: '/contacts/{{ record.id | url_encode }}', format: 'form', body: 'name={{ record.fields.name | url_encode }}&key={{ record.key }}' },
        delete: { url: '/contacts/remove', format: 'xml', batchSize: 50, body: '<ids>{% for r in records %}<id>{{ r.id | xml_escape }}</id>{% endfor %}</ids>' },
      },
    });
    const destination = httpRequestDestinationType.create({
      connection: { name: 'crm', type: 'http-request', ...connection }, options: {},
      sync: makeSync('crm', 'mirror', ['id'], ['id', 'name']), rootDir: process.cwd(),
    });
    const ctx = recordingContext();
    const results = await destination.write([
      ...upserts(2, (i) => ({ name: `A&B ${i}` })),
      { key: 'x', op: 'delete', match: { id: 'a<b' }, fields: {} },
    ], ctx);
    expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(wire.log.map((r) => [r.method, r.path, r.headers['content-type'], r.body])).toEqual([
      ['PUT', '/contacts/u1', 'application/x-www-form-urlencoded', 'name=A%26B+1&key=k1'],
      ['PUT', '/contacts/u2', 'application/x-www-form-urlencoded', 'name=A%26B+2&key=k2'],
      ['POST', '/contacts/remove', 'application/xml', '<ids><id>a&lt;b</id></ids>'],
    ]);
    expect(ctx.apiCalls).toBe(3);
    await destination.close();
    await wire.stop();
  });

  it('reads what a status means from its settings: a 500 can be a refusal, a 402 a used-up quota', async () => {
    const wire = await new FakeApiServer(() => ({ status: 200, body: {} })).start();
    const connection = httpRequestDestinationType.connection.parse({
      baseUrl: wire.url,
      statuses: { terminal: [500], quota: [402] },
      errors: { message: '{{ body.detail }}', code: '{{ body.type }}' },
      operations: { upsert: { url: '/items', batchSize: 10, body: ARRAY_BODY } },
    });
    const destination = httpRequestDestinationType.create({
      connection: { name: 'api', type: 'http-request', ...connection }, options: {},
      sync: makeSync('api', 'upsert', ['id'], ['id', 'name']), rootDir: process.cwd(),
    });
    wire.inject({ status: 500, body: { type: 'bad_item', detail: 'item 2 is broken' } }, { status: 402, body: { type: 'plan_limit', detail: 'monthly quota used' } }, { status: 503 });
    expect(await thrown(() => destination.write(upserts(2), recordingContext()))).toMatchObject({ kind: 'terminal', code: 'bad_item', message: 'item 2 is broken' });
    expect(await thrown(() => destination.write(upserts(2), recordingContext()))).toMatchObject({ kind: 'quota', code: 'plan_limit', category: 'rate_limit' });
    expect(await thrown(() => destination.write(upserts(2), recordingContext()))).toMatchObject({ kind: 'transient', status: 503 });
    expect((await destination.write(upserts(2), recordingContext())).map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    await destination.close();
    await wire.stop();
  });

  it('checks before each send a body whose fixed text is not JSON: nothing is sent', async () => {
    // Every value is | json, but a comma is missing between items: no count of records makes JSON but 0 and 1.
    const destination = inline(endpoint.url, '[{% for r in records %}{{ r.fields | json }}{% endfor %}]');
    const before = endpoint.log.length;
    const delivered = await run(upserts(3), { destination, batchSize: 3 });
    expect(delivered.results.get('k1')).toMatchObject({ outcome: 'delivered' });
    expect(delivered.results.get('k2')).toMatchObject({ outcome: 'delivered' });
    expect(endpoint.log.slice(before).every((r) => r.status === 200 && r.records === 1)).toBe(true);
    await destination.close();
  });

  it('Braze: a 429 waits until X-RateLimit-Reset, then every row arrives', async () => {
    const destination = presetDestination('braze', { restEndpoint: braze.url, apiKey: braze.apiKey }, 'upsert', 'external_id', ['name']);
    const reset = String(Math.ceil(Date.now() / 1000) + 1);
    braze.server.inject({ status: 429, headers: { 'X-RateLimit-Limit': '3000', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': reset }, body: { message: 'API rate limit exceeded' } });
    const delivered = await run(upserts(20, () => ({}), 'external_id'), { destination, batchSize: 75 });
    expect(delivered.error).toBeUndefined();
    expect(delivered.stats).toMatchObject({ delivered: 20, throttled: 1 });
    const wait = Number(/429 Too Many Requests, retry in (\d+) ms/.exec(delivered.traces.join('\n'))?.[1]);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(2000);
    expect(braze.users.get('u20')).toMatchObject({ name: 'user 20' });
    await destination.close();
  });

  it('Braze: a 429 is rate_limited with the wait its reset header gives', async () => {
    const tight = new BrazeFake({ limit: { requests: 1, windowMs: 60_000 } });
    await tight.server.start();
    const destination = presetDestination('braze', { restEndpoint: tight.url, apiKey: tight.apiKey }, 'upsert', 'external_id', ['name']);
    await destination.write(upserts(1, () => ({}), 'external_id'), recordingContext());
    const error = await thrown(() => destination.write(upserts(1, () => ({}), 'external_id', 2), recordingContext()));
    expect(error).toBeInstanceOf(SyncError);
    expect(error).toMatchObject({ kind: 'rate_limited', status: 429, category: 'rate_limit' });
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(61_000);
    await destination.close();
    await tight.server.stop();
  });

  it('Customer.io: a batch over 500 KB is refused whole (413) and split until each half fits', async () => {
    const destination = presetDestination('customerio', { siteId: cio.siteId, apiKey: cio.apiKey, trackUrl: cio.url }, 'upsert', 'id', ['name', 'bio']);
    const before = cio.server.log.length;
    const delivered = await run(upserts(100, () => ({ bio: 'b'.repeat(8_000) })), { destination, batchSize: 100 });
    expect(delivered.stats?.delivered).toBe(100);
    const statuses = cio.server.log.slice(before).map((r) => r.status);
    expect(statuses[0]).toBe(413);
    expect(statuses.slice(1).every((s) => s === 200)).toBe(true);
    const keys = cio.server.log.slice(before).map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(keys.length);
    await destination.close();
  });

  it('Iterable: describes fields from getFields, and a mirror batch sends one bulkUpdate and one DELETE per removed user', async () => {
    const destination = presetDestination('iterable', { apiKey: iterable.apiKey, apiUrl: iterable.url }, 'mirror', 'email', ['firstName', 'amount']);
    expect(await destination.describe!(AbortSignal.timeout(5_000))).toEqual([
      { name: 'email', type: 'string' }, { name: 'firstName', type: 'string' }, { name: 'amount', type: 'integer' },
    ]);
    iterable.users.set('gone@example.com', { email: 'gone@example.com' });
    const ctx = recordingContext();
    const results = await destination.write([
      { key: 'a', op: 'upsert', match: { email: 'a@example.com' }, fields: { email: 'a@example.com', firstName: 'A', amount: 3 } },
      { key: 'g', op: 'delete', match: { email: 'gone@example.com' }, fields: {} },
      { key: 'b', op: 'upsert', match: { email: 'b@example.com' }, fields: { email: 'b@example.com', firstName: 'B', amount: 'lots' } },
    ], ctx);
    expect(ctx.apiCalls).toBe(2);
    expect(Object.fromEntries(results.map((r) => [r.key, r.outcome === 'delivered' ? 'delivered' : r.rejection.code]))).toEqual({ a: 'delivered', b: 'invalidDataEmails', g: 'delivered' });
    expect(iterable.users.has('gone@example.com')).toBe(false);
    expect(iterable.users.get('a@example.com')).toMatchObject({ firstName: 'A', amount: 3 });
    await destination.close();
  });
});
