// Takes a sync's run lock and holds it (heartbeating) until killed: the "other run" of lock tests.
// Usage: node --import tsx lock-holder-child.ts STATE SYNC RUN_ID HEARTBEAT_MS
import { openStateStore } from '../../src/state/open-state-store.ts';

const [state, sync, runId, heartbeatMs] = process.argv.slice(2);
const store = await openStateStore(state, { lock: { heartbeatMs: Number(heartbeatMs) } });
await store.acquireLock(sync, runId);
process.stdout.write('locked\n');
setInterval(() => undefined, 1 << 30);
