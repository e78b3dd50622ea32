/**
 * Writes schema/lastmile.schema.json from the config schema and every registered type.
 * Run after changing a type's settings: `npx tsx src/config/write-json-schema.ts`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { JSON_SCHEMA_PATH, projectJsonSchemaText } from './json-schema.ts';

await mkdir(path.dirname(JSON_SCHEMA_PATH), { recursive: true });
await writeFile(JSON_SCHEMA_PATH, projectJsonSchemaText());
console.log(`wrote ${path.relative(process.cwd(), JSON_SCHEMA_PATH)}`);
