import http from 'node:http';

export interface ReceiverOptions {
  port: number;
  host?: string;
  /** Requests per second it accepts before answering 429 with Retry-After, like a real pricing API. */
  requestsPerSecond?: number;
  log?(line: string): void;
}

/**
 * The demo's pricing engine: accepts JSON arrays of records at any path, answers 200 with how
 * many it took, and 429 + Retry-After past its rate. It keeps the latest record per id.
 */
export function startDemoReceiver(options: ReceiverOptions): Promise<{ url: string; records: Map<string, unknown>; close(): Promise<void> }> {
  const limit = options.requestsPerSecond ?? 20;
  const records = new Map<string, unknown>();
  let windowStart = Date.now();
  let inWindow = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const now = Date.now();
      if (now - windowStart >= 1000) { windowStart = now; inWindow = 0; }
      if (++inWindow > limit) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error: 'rate_limited', message: `more than ${limit} requests per second` }));
        options.log?.(`${req.method} ${req.url} -> 429`);
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]');
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_json' }));
        return;
      }
      const items = Array.isArray(body) ? body : [body];
      for (const item of items as { id?: unknown; key?: unknown; op?: string }[]) {
        const id = String(item.id ?? item.key);
        if (item.op === 'delete' || req.method === 'DELETE') records.delete(id);
        else records.set(id, item);
      }
      options.log?.(`${req.method} ${req.url} -> 200 [${items.length}]  (holding ${records.size})`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ accepted: items.length }));
    });
  });
  return new Promise((resolve) => {
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({
        url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
        records,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
