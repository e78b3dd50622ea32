// A new scrape lands: every 50th SKU gets a new price. Used by scripts/demo.sh.
import { simulatePriceChanges } from '../src/cli/demo/demo-warehouse.ts';

const changed = await simulatePriceChanges(process.argv[2] ?? 'warehouse.duckdb', 50);
console.log(`warehouse: ${changed.toLocaleString('en-US')} competitor prices changed`);
