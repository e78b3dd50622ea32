import http from 'node:http';

export interface Sink {
  url: string;
  /** When each request arrived (performance clock, ms). */
  arrivals: number[];
  close(): Promise<void>;
}

/**
 * Reads each body to the end and answers 200 (after `latencyMs`, like a slow API): the
 * cheapest honest endpoint, so a bench measures Lastmile and not the endpoint.
 */
export function startSink(options: { latencyMs?: number } = {}): Promise<Sink> {
  const arrivals: number[] = [];
  const server = http.createServer((req, res) => {
    arrivals.push(performance.now());
    req.resume();
    req.on('end', () => {
      const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (options.latencyMs) setTimeout(answer, options.latencyMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    arrivals,
    close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }),
  })));
}
