/**
 * The Snowflake fake in a process of its own, as Snowflake is: its work on each request does
 * not take CPU from the reader under test. Driven over IPC by snowflake-partitions.bench.ts.
 */
import { createPublicKey } from 'node:crypto';
import { SnowflakeFake } from '../../test/fakes/snowflake/snowflake-fake.ts';

interface Start { type: 'start'; publicKeyPem: string; partitionRows: number; latencyMs: number; setupSql: string }

let fake: SnowflakeFake | undefined;

process.on('message', async (message: Start | { type: 'requests' } | { type: 'close' }) => {
  if (message.type === 'start') {
    fake = await new SnowflakeFake({
      account: 'BENCH', user: 'LASTMILE', publicKey: createPublicKey(message.publicKeyPem),
      partitionRows: message.partitionRows, latencyMs: message.latencyMs,
    }).start();
    await fake.engine.run(message.setupSql);
    process.send!({ type: 'started', url: fake.url });
  } else if (message.type === 'requests') {
    process.send!({ type: 'requests', count: fake?.server.log.length ?? 0 });
  } else {
    await fake?.stop();
    process.disconnect();
  }
});
