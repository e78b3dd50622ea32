import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { demoConfig } from '../demo/demo-project.ts';
import { writeDemoWarehouse } from '../demo/demo-warehouse.ts';
import { DEMO_RECEIVER_PORT } from '../demo/demo-port.ts';
import { JSON_SCHEMA_PATH } from '../../config/json-schema.ts';
import { PACKAGE_ROOT } from '../../package-root.ts';

/** `lastmile init [DIR]`: a working example project with an embedded DuckDB warehouse. */
export async function initCommand(dir: string, log: (text: string) => void): Promise<number> {
  const root = path.resolve(dir);
  const configFile = path.join(root, 'lastmile.yml');
  if (existsSync(configFile)) {
    log(`${configFile} already exists; choose another folder: lastmile init DIR`);
    return 64;
  }
  const command = lastmileCommand(process.cwd());
  // The schema of the package that wrote the file, wherever it is installed: editors then check what this version reads.
  const schema = path.relative(root, JSON_SCHEMA_PATH).split(path.sep).join('/');
  await mkdir(root, { recursive: true });
  await writeFile(configFile, demoConfig(DEMO_RECEIVER_PORT, schema, command));
  await writeDemoWarehouse(path.join(root, 'warehouse.duckdb'));
  log(`wrote ${configFile} and ${path.join(root, 'warehouse.duckdb')} (50,000 competitor prices)`);
  const cd = path.relative(process.cwd(), root);
  log('next:');
  if (cd) log(`  cd ${cd.includes(' ') ? JSON.stringify(cd) : cd}`);
  log(`  ${command} receiver --port ${DEMO_RECEIVER_PORT} &     # a local pricing endpoint to sync to`);
  log(`  ${command} check                            # config, connections, and the model's columns`);
  log(`  ${command} plan prices_to_engine            # what would be sent; writes nothing`);
  log(`  ${command} sync prices_to_engine`);
  return 0;
}

/**
 * How the user runs lastmile from `cwd`: `npx lastmile` when this package is installed in a
 * node_modules folder npx finds from there (a project's own install), `lastmile` otherwise
 * (a global install, or a clone). Never a bare `npx lastmile` that npx could not resolve:
 * it would download the unrelated package of that name.
 */
export function lastmileCommand(cwd: string): string {
  const modules = path.dirname(PACKAGE_ROOT);
  const local = path.basename(modules) === 'node_modules' || path.basename(path.dirname(modules)) === 'node_modules';
  if (!local) return 'lastmile';
  const owner = path.dirname(path.basename(modules) === 'node_modules' ? modules : path.dirname(modules));
  const inside = !path.relative(owner, cwd).startsWith('..') && !path.isAbsolute(path.relative(owner, cwd));
  return inside && !/[\\/]lib[\\/]node_modules$/.test(modules) ? 'npx lastmile' : 'lastmile';
}
