import { z } from 'zod';

const cache = new WeakMap<z.ZodType, z.ZodType>();

/**
 * The same schema with every plain `z.object` made strict. A plain object silently drops
 * keys it does not know, so a typo (`batchsize:`) would vanish instead of being reported;
 * types register their settings however they like and the config still refuses unknown keys.
 * Objects that chose a catchall (`z.looseObject`, `.catchall(…)`) keep it.
 */
export function strictSettings<T extends z.ZodType>(schema: T): T {
  let strict = cache.get(schema);
  if (!strict) {
    strict = deepStrict(schema);
    cache.set(schema, strict);
  }
  return strict as T;
}

function deepStrict(schema: z.ZodType): z.ZodType {
  const def = schema.def as any;
  if (schema instanceof z.ZodObject) {
    const shape = Object.fromEntries(Object.entries(schema.shape).map(([key, value]) => [key, deepStrict(value as z.ZodType)]));
    return schema.clone({ ...def, shape, catchall: def.catchall ?? z.never() });
  }
  if (
    schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault || schema instanceof z.ZodReadonly || schema instanceof z.ZodCatch ||
    schema instanceof z.ZodNonOptional
  ) {
    return schema.clone({ ...def, innerType: deepStrict(def.innerType) });
  }
  if (schema instanceof z.ZodArray) return schema.clone({ ...def, element: deepStrict(def.element) });
  if (schema instanceof z.ZodRecord) return schema.clone({ ...def, valueType: deepStrict(def.valueType) });
  if (schema instanceof z.ZodUnion) return schema.clone({ ...def, options: def.options.map(deepStrict) });
  if (schema instanceof z.ZodPipe) return schema.clone({ ...def, in: deepStrict(def.in) });
  return schema;
}

/** Keys a strict object schema accepts; undefined when it is not one (then zod reports unknown keys itself). */
export function strictKeys(schema: z.ZodType): string[] | undefined {
  return schema instanceof z.ZodObject && schema.def.catchall instanceof z.ZodNever ? Object.keys(schema.shape) : undefined;
}
