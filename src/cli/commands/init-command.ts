import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { demoConfig } from '../demo/demo-project.ts';
import { writeDemoWarehouse } from '../demo/demo-warehouse.ts';

export const DEMO_RECEIVER_PORT = 8787;

/** `lastmile init [DIR]`: a working example project with an embedded DuckDB warehouse. */
export async function initCommand(dir: string, log: (text: string) => void): Promise<number> {
  const root = path.resolve(dir);
  const configFile = path.join(root, 'lastmile.yml');
  if (existsSync(configFile)) {
    log(`${configFile} already exists; choose another folder: lastmile init DIR`);
    return 64;
  }
  await mkdir(root, { recursive: true });
  await writeFile(configFile, demoConfig(DEMO_RECEIVER_PORT));
  await writeDemoWarehouse(path.join(root, 'warehouse.duckdb'));
  log(`wrote ${configFile} and ${path.join(root, 'warehouse.duckdb')} (50,000 competitor prices)`);
  log(`next: npx lastmile receiver --port ${DEMO_RECEIVER_PORT} &   then   npx lastmile plan prices_to_engine   and   npx lastmile sync prices_to_engine`);
  return 0;
}
