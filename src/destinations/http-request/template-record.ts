import type { Change } from '../destination.ts';
import type { Value } from '../../sources/source.ts';

/** A record as request templates see it (see RECORD_MEMBERS). */
export interface TemplateRecord {
  key: string;
  op: Change['op'];
  /** The (first) identifier value, and the destination field it goes in. */
  id: Value;
  idField: string | undefined;
  match: Record<string, Value>;
  /** Every mapped field, identifiers included. */
  fields: Record<string, Value>;
  /** The mapped fields without the identifiers. */
  attributes: Record<string, Value>;
  destId?: string;
}

/** `attributes` is a copy per record: made only for templates that read it. */
export function templateRecord(change: Change, withAttributes = true): TemplateRecord {
  let idField: string | undefined;
  for (const field in change.match) {
    idField = field;
    break;
  }
  const attributes: Record<string, Value> = {};
  if (withAttributes) for (const field in change.fields) if (!(field in change.match)) attributes[field] = change.fields[field]!;
  return {
    key: change.key,
    op: change.op,
    id: idField === undefined ? null : change.match[idField]!,
    idField,
    match: change.match,
    fields: change.fields,
    attributes,
    ...(change.destId !== undefined ? { destId: change.destId } : {}),
  };
}
