import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedStateStore } from '../../src/state/embedded/embedded-state-store.ts';
import { stateStoreConformance } from '../conformance/state-store-conformance.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lm-embedded-state-'));

stateStoreConformance(
  'embedded',
  async () => ({ spec: root, open: async (options) => new EmbeddedStateStore(root, options) }),
  async () => fs.rmSync(root, { recursive: true, force: true }),
);
