/** `npx tsx src/server/build-ui.ts`: builds the web UI into dist/ui (serve also does it on first start). */
import { buildUi } from './ui-bundle.ts';

const dir = await buildUi();
console.log(`web UI built into ${dir}`);
