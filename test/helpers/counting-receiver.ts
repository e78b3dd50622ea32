import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An endpoint on 127.0.0.1 that accepts JSON arrays of records and counts them. */
export function startCountingReceiver() {
  let records = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (body) records += (JSON.parse(body) as unknown[]).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return {
    /** Records received so far. */
    get records() { return records; },
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
