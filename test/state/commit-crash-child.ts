// Commits batches to the embedded store in a loop and prints "ack N" once commitRows(N) resolved;
// in "compact" mode it also compacts after every third batch. The crash tests SIGKILL it.
// Usage: node --import tsx commit-crash-child.ts ROOT SYNC MODE FIRST_BATCH
import { EmbeddedStateStore } from '../../src/state/embedded/embedded-state-store.ts';
import { batchUpdates } from './crash-batches.ts';

const [root, sync, mode, first] = process.argv.slice(2);
const store = new EmbeddedStateStore(root);
const say = (line: string) => process.stdout.write(`${line}\n`);

for (let batch = Number(first); batch < Number(first) + 5_000; batch++) {
  await store.commitRows(sync, batchUpdates(batch));
  say(`ack ${batch}`);
  if (mode === 'compact' && batch % 3 === 2) {
    say(`compacting ${batch}`);
    await store.compactRowState(sync);
    say(`compacted ${batch}`);
  }
}
