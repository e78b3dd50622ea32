import net from 'node:net';

/** Local services the tests talk to, and where they listen. */
export const SERVICES = {
  postgres: { port: 5432, url: process.env.LASTMILE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  mariadb: { port: 3306, url: process.env.LASTMILE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test' },
  redis: { port: 6379, url: process.env.LASTMILE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' },
  rabbitmq: { port: 5672, url: 'amqp://guest:guest@127.0.0.1:5672' },
  nats: { port: 4222, url: 'nats://127.0.0.1:4222' },
} as const;
export type ServiceName = keyof typeof SERVICES;

/**
 * Whether a service answers on its port. Under CI (CI=true) a missing service is a failure,
 * never a silent skip; on a laptop the suite skips it with a loud message.
 * Use: `const up = await needService('postgres'); describe.skipIf(!up)(…)`.
 */
export async function needService(name: ServiceName): Promise<boolean> {
  const { port } = SERVICES[name];
  if (await portOpen(port)) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${name} is not reachable on 127.0.0.1:${port}, and CI requires it (.ci/run starts it)`);
  }
  console.warn(`\n!!!! SKIPPING ${name} tests: nothing listens on 127.0.0.1:${port} !!!!\n`);
  return false;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (up: boolean) => { socket.destroy(); resolve(up); };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
