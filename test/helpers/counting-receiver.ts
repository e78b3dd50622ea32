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

/**
 * An endpoint that counts every record it is sent, per key, and answers after 15 ms: slow
 * enough for a test to kill the sending process mid-run. `onRequest` listeners run at each batch.
 */
export function startKeyCountingReceiver() {
  const received = new Map<string, number>();
  let requests = 0;
  const listeners: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.method !== 'POST' || !body) return void res.writeHead(200).end(); // connection checks
        for (const item of JSON.parse(body) as { key: string }[]) received.set(item.key, (received.get(item.key) ?? 0) + 1);
        requests++;
        listeners.forEach((l) => l());
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }, 15);
    });
  });
  return {
    received,
    get requests() { return requests; },
    onRequest(listener: () => void) { listeners.push(listener); },
    listen: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
