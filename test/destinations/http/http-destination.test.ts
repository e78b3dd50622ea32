import { afterEach, describe, expect, it } from 'vitest';
import type { Change } from '../../../src/destinations/destination.ts';
import { recordingContext } from '../../helpers/write-context.ts';
import { httpDestinationType } from '../../../src/destinations/http/http-type.ts';
import { SyncError } from '../../../src/errors.ts';
import { FakeHttpServer, type FakeHttpOptions } from '../../fakes/http/fake-http-server.ts';
import { changes, httpDestination, outcomes, run } from '../../delivery/delivery-kit.ts';

const servers: FakeHttpServer[] = [];
const closers: (() => Promise<void>)[] = [];
async function setup(options: FakeHttpOptions = {}, settings: Record<string, unknown> = {}, path = '/hooks/prices') {
  const server = await new FakeHttpServer(options).start();
  servers.push(server);
  const destination = httpDestination(`${server.url}${path}`, settings);
  closers.push(() => destination.close());
  return { server, destination };
}
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const context = recordingContext;

const fast = { requestsPerSecond: 1000, concurrency: 4 };

describe('http destination', () => {
  it('sends each record as { op, key, ...match, ...fields } in a JSON array', async () => {
    const { server, destination } = await setup();
    const batch: Change[] = [
      { key: 'SKU-1', op: 'upsert', match: { sku: 'SKU-1' }, fields: { sku: 'SKU-1', amount: '12.50', count: 12345678901234567890n, blob: new Uint8Array([1, 2, 3]) } },
    ];
    const ctx = context();
    const results = await destination.write(batch, ctx);
    expect(results).toEqual([{ key: 'SKU-1', outcome: 'delivered' }]);
    expect(JSON.parse(server.log[0].body)).toEqual([{ op: 'upsert', key: 'SKU-1', sku: 'SKU-1', amount: '12.50', count: '12345678901234567890', blob: 'AQID' }]);
    expect(server.log[0].method).toBe('POST');
    expect(server.log[0].headers['content-type']).toBe('application/json');
    expect(ctx.apiCalls).toBe(1);
    expect(ctx.statuses).toEqual([200]);
  });

  it('wraps the array in bodyKey, and sends one request per record with perRecord', async () => {
    const wrapped = await setup({ bodyKey: 'items' }, { bodyKey: 'items', method: 'PUT' });
    await wrapped.destination.write(changes(3), context());
    expect(Object.keys(JSON.parse(wrapped.server.log[0].body))).toEqual(['items']);
    expect(wrapped.server.log[0].method).toBe('PUT');
    expect(wrapped.server.store.size).toBe(3);

    const single = await setup({}, { perRecord: true });
    expect(single.destination.capabilities.maxBatchSize).toBe(1);
    const d = await run(changes(5), { destination: single.destination, batchSize: 100, rateLimit: fast });
    expect(outcomes(d).delivered).toBe(5);
    expect(single.server.log).toHaveLength(5);
    expect(JSON.parse(single.server.log[0].body)).toMatchObject({ op: 'upsert', id: expect.any(String) });
  });

  it('signs the raw body with HMAC-SHA256, which the endpoint verifies', async () => {
    const good = await setup({ signingSecret: 's3cret' }, { signing: { secret: 's3cret' } });
    expect(outcomes(await run(changes(10), { destination: good.destination, rateLimit: fast })).delivered).toBe(10);
    expect(good.server.log[0].headers['x-lastmile-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);

    const custom = await setup({ signingSecret: 's3cret', signatureHeader: 'X-Hub-Signature-256' }, { signing: { secret: 's3cret', header: 'X-Hub-Signature-256' } });
    expect(outcomes(await run(changes(2), { destination: custom.destination, rateLimit: fast })).delivered).toBe(2);

    const wrong = await setup({ signingSecret: 's3cret' }, { signing: { secret: 'other-secret' } });
    const d = await run(changes(10), { destination: wrong.destination, rateLimit: fast });
    expect((d.error as SyncError).kind).toBe('config');
    expect((d.error as Error).message).toMatch(/401 Unauthorized: signature does not match the body; check the credentials/);
    expect((d.error as Error).message).not.toContain('other-secret');
  });

  it('deletes with DELETE on the same url by default, or through the configured endpoint and method', async () => {
    const plain = await setup();
    await plain.destination.write(changes(3), context());
    const ctx = context();
    const results = await plain.destination.write([
      { key: 'k1', op: 'delete', match: { id: 'id-1' }, fields: {} },
      { key: 'k9', op: 'upsert', match: { id: 'id-9' }, fields: { id: 'id-9', name: 'nine' } },
    ], ctx);
    expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    expect(ctx.apiCalls).toBe(2);
    const del = plain.server.log.find((r) => r.method === 'DELETE')!;
    expect(del.path).toBe('/hooks/prices');
    expect(JSON.parse(del.body)).toEqual([{ op: 'delete', key: 'k1', id: 'id-1' }]);
    expect([...plain.server.store.keys()].sort()).toEqual(['id-2', 'id-3', 'id-9']);

    const routed = await setup({}, {});
    const via = httpDestination(`${routed.server.url}/hooks/prices`, { delete: { url: `${routed.server.url}/hooks/prices/remove`, method: 'POST' } });
    closers.push(() => via.close());
    await via.write(changes(2), context());
    await via.write([{ key: 'k2', op: 'delete', match: { id: 'id-2' }, fields: {} }], context());
    const last = routed.server.log.at(-1)!;
    expect([last.method, last.path]).toEqual(['POST', '/hooks/prices/remove']);
    expect([...routed.server.store.keys()]).toEqual(['id-1']);
  });

  it('maps answers: 429 rate_limited, 5xx transient, 401/403/404 config, other 4xx terminal with the body message', async () => {
    const { server, destination } = await setup({}, { headers: { Authorization: 'Bearer tok-789' } }, '/hooks/prices?token=q-secret');
    const answer = async () => destination.write(changes(1), context()).then(() => undefined, (e: SyncError) => e);
    server.inject({ status: 429, retryAfter: '7' });
    expect(await answer()).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000, status: 429 });
    server.inject({ status: 503 });
    expect(await answer()).toMatchObject({ kind: 'transient', status: 503 });
    for (const status of [401, 403, 404]) {
      server.inject({ status, body: { message: 'nope' } });
      const err = (await answer())!;
      expect(err.kind).toBe('config');
      expect(err.message).toContain(`destination "pricing_engine": POST ${server.url}/hooks/prices answered ${status}`);
      expect(err.message).not.toMatch(/q-secret|tok-789/);
    }
    server.inject({ status: 422, body: { errors: [{ code: 'INVALID_EMAIL', message: 'email is not valid', field: 'email' }] } });
    expect(await answer()).toMatchObject({ kind: 'terminal', status: 422, code: 'INVALID_EMAIL', field: 'email', message: 'email is not valid', category: 'schema_mismatch' });
    server.inject({ status: 400, body: 'plain text reason' });
    expect(await answer()).toMatchObject({ kind: 'terminal', code: '400', message: 'plain text reason' });
  });

  it('a refusal by a CHECK constraint or a business rule is an invalid row, not a schema mismatch, though it names a field', async () => {
    const { server, destination } = await setup({});
    const answer = async () => destination.write(changes(1), context()).then(() => undefined, (e: SyncError) => e);
    const refusals: [object, string][] = [
      [{ code: 'check_violation', message: 'new row for relation "prices" violates check constraint "price_positive"', field: 'price' }, 'invalid_row'],
      [{ code: 'INVALID_PRICE', message: 'price must be greater than 0', field: 'price' }, 'invalid_row'],
      [{ message: 'discount not allowed for plan free', field: 'discount' }, 'invalid_row'],
      [{ code: 'INVALID_TYPE', message: 'expected an integer, got "lots"', field: 'price' }, 'schema_mismatch'],
      [{ message: 'name is too long (maximum is 80 characters)', field: 'name' }, 'schema_mismatch'],
      [{ message: 'unknown field "colour"', field: 'colour' }, 'schema_mismatch'],
    ];
    for (const [body, category] of refusals) {
      server.inject({ status: 422, body });
      expect(await answer(), JSON.stringify(body)).toMatchObject({ kind: 'terminal', category });
    }
  });

  it('times out a request that never answers, as a transient failure', async () => {
    const { server, destination } = await setup({}, { timeoutMs: 200 });
    server.inject('hang');
    const err = await destination.write(changes(1), context()).then(() => undefined, (e: SyncError) => e);
    expect(err).toMatchObject({ kind: 'transient', code: 'TIMEOUT' });
    expect(err!.message).toMatch(/did not answer within 200 ms/);
  });

  it('reports limit headers to the engine', async () => {
    const { destination } = await setup({ limit: { rate: 10, burst: 100 }, limitHeaders: true });
    const ctx = context();
    await destination.write(changes(1), ctx);
    expect(ctx.limits).toEqual([{ limit: 100, intervalMs: 10_000, remaining: 99 }]);
  });

  it('checks reachability and credentials without sending a record', async () => {
    const { server, destination } = await setup();
    await destination.check(AbortSignal.timeout(5000));
    expect(server.log.map((r) => r.method)).toEqual(['HEAD']);
    expect(server.store.size).toBe(0);
    await server.stop();
    servers.length = 0;
    await expect(destination.check(AbortSignal.timeout(5000))).rejects.toMatchObject({ kind: 'config', message: expect.stringMatching(/cannot reach HEAD http:\/\/127\.0\.0\.1:\d+\/hooks\/prices/) });
  });

  it('validates its settings with errors that name the field', () => {
    const parse = (v: unknown) => httpDestinationType.connection.safeParse(v);
    expect(parse({ url: 'ftp://x' }).success).toBe(false);
    expect(parse({ url: 'http://x', methd: 'POST' }).error?.issues[0]).toMatchObject({ code: 'unrecognized_keys' });
    expect(parse({ url: 'http://x', timeoutMs: -1 }).error?.issues[0].path).toEqual(['timeoutMs']);
    expect(parse({ url: 'http://x' }).data).toMatchObject({ method: 'POST', headers: {}, timeoutMs: 30_000, perRecord: false });
    expect(parse({ url: 'http://x', signing: { secret: 'a' } }).data?.signing).toEqual({ secret: 'a', header: 'X-Lastmile-Signature' });
    expect(httpDestinationType.syncOptions.safeParse({ object: 'x' }).success).toBe(false);
    expect(httpDestinationType.secretSettings).toEqual(['headers', 'signing']);
  });
});
