import type { FieldSpec, FieldType } from '../destination.ts';
import { SyncError } from '../../errors.ts';
import type { HttpRequestSpec } from './http-request-settings.ts';

type DescribeSetting = NonNullable<HttpRequestSpec['describe']>;

/**
 * Field types from a schema endpoint's answer: a list of objects (`name` / `type` keys) or a map
 * of name -> type (Iterable's getFields), under `path`. API type names are translated by `types`;
 * a type it does not list leaves the field untyped (sent as mapped).
 */
export function fieldsFromAnswer(text: string, setting: DescribeSetting, destination: string, where: string): FieldSpec[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SyncError('config', `destination "${destination}": ${where} did not answer JSON; check describe.request`);
  }
  const at = (setting.path ? setting.path.split('.') : []).reduce<unknown>((v, k) => (isMap(v) ? v[k] : undefined), body);
  const types = setting.types ?? {};
  const pairs: [string, unknown][] = Array.isArray(at)
    ? at.filter(isMap).map((f) => [String(f[setting.name ?? 'name']), f[setting.type ?? 'type']])
    : isMap(at) ? Object.entries(at) : [];
  if (!Array.isArray(at) && !isMap(at)) {
    throw new SyncError('config', `destination "${destination}": ${where} has no field list at describe.path "${setting.path ?? ''}"`);
  }
  return pairs.flatMap(([name, apiType]) => {
    const type: FieldType | undefined = types[String(apiType)];
    return type ? [{ name, type }] : [];
  });
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
