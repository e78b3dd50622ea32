import { DuckDBInstance } from '@duckdb/node-api';
import { Agent, request } from 'undici';

/**
 * The floor an end-to-end run is measured against: DuckDB itself builds the very JSON bodies
 * the http destination sends (batches of `batchSize` records `{op, key, id, amount, currency,
 * competitor}`), and a minimal sender posts them with `concurrency` requests in flight. No
 * diff, mapping, state or retries: what reading and posting alone cost on this machine.
 */
export async function floorPipeline(warehouse: string, url: string, batchSize: number, concurrency: number): Promise<{ rows: number; ms: number }> {
  const started = performance.now();
  const instance = await DuckDBInstance.create(warehouse, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  const agent = new Agent({ connections: concurrency, pipelining: 1 });
  let rows = 0;
  try {
    const result = await connection.stream(`
      SELECT count(*)::INTEGER AS n, '[' || string_agg(json_object('op', 'upsert', 'key', sku, 'id', sku, 'amount', price, 'currency', currency, 'competitor', competitor)::VARCHAR, ',') || ']' AS body
      FROM (SELECT *, (row_number() OVER () - 1) // ${batchSize} AS batch FROM prices) GROUP BY batch`);
    const inFlight = new Set<Promise<void>>();
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const counts = chunk.getColumnValues(0) as number[];
      const bodies = chunk.getColumnValues(1) as string[];
      for (let i = 0; i < bodies.length; i++) {
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
        const sent = post(agent, url, bodies[i]!).then(() => { rows += counts[i]!; inFlight.delete(sent); });
        inFlight.add(sent);
      }
    }
    await Promise.all(inFlight);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await agent.close();
  }
  return { rows, ms: performance.now() - started };
}

async function post(agent: Agent, url: string, body: string): Promise<void> {
  const answer = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
  await answer.body.dump();
  if (answer.statusCode !== 200) throw new Error(`floor pipeline: ${answer.statusCode}`);
}
