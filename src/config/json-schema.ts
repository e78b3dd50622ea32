import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';
import { z } from 'zod';
import { sourceTypes } from '../sources/registry.ts';
import { destinationTypes } from '../destinations/registry.ts';
import { destinationCommonShape, projectSchema, syncShape } from './schema.ts';
import { strictSettings } from './strict-settings.ts';

/** Shipped with the package so editors complete and check `lastmile.yml`. */
export const JSON_SCHEMA_PATH = path.join(PACKAGE_ROOT, 'schema', 'lastmile.schema.json');

/**
 * The JSON Schema of `lastmile.yml`, made from the same zod schema the loader uses, with each
 * registered type's own settings in place of the loader's pass-through entries.
 */
export function projectJsonSchema(): Record<string, unknown> {
  const sources = Object.values(sourceTypes).map((type) => withType(type.type, strictSettings(type.settings), {}));
  const destinations = Object.values(destinationTypes).map((type) =>
    withType(type.type, strictSettings(type.connection), destinationCommonShape));
  const syncs = Object.values(destinationTypes).map((type) =>
    withKeys(strictSettings(type.syncOptions), syncShape).describe(`A sync to a destination of type ${type.type}`));
  const schema = projectSchema({ source: oneOf(sources), destination: oneOf(destinations), sync: oneOf(syncs, false) });
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });
  return {
    $schema: json.$schema,
    title: 'Lastmile project (lastmile.yml)',
    description: 'Sources, destinations, models and syncs of a Lastmile reverse ETL project. ${NAME} in a value is replaced by the environment variable NAME.',
    ...json,
  };
}

export function projectJsonSchemaText(): string {
  return `${JSON.stringify(projectJsonSchema(), null, 2)}\n`;
}

/** A type's settings with `type: <its name>` (and the keys every entry of its kind has) added. */
function withType(type: string, settings: z.ZodType, common: z.core.$ZodLooseShape): z.ZodType {
  return withKeys(settings, { type: z.literal(type), ...common });
}

function withKeys(settings: z.ZodType, keys: z.core.$ZodLooseShape): z.ZodType {
  if (settings instanceof z.ZodObject) {
    return settings.clone({ ...settings.def, shape: { ...keys, ...settings.shape } } as typeof settings.def);
  }
  return z.intersection(z.looseObject(keys), settings);
}

function oneOf(variants: z.ZodType[], byType = true): z.ZodType {
  if (variants.length === 0) return z.looseObject({ type: z.string() });
  if (variants.length === 1) return variants[0];
  const objects = byType && variants.every((variant) => variant instanceof z.ZodObject);
  return objects
    ? z.discriminatedUnion('type', variants as [z.ZodObject, ...z.ZodObject[]])
    : z.union(variants as [z.ZodType, ...z.ZodType[]]);
}
