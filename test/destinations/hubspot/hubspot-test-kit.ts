import type { FieldMapping, SyncConfig, SyncMode } from '../../../src/config/project.ts';
import type { Change, Destination } from '../../../src/destinations/destination.ts';
import { hubspotDestinationType } from '../../../src/destinations/hubspot/hubspot-type.ts';
import type { Value } from '../../../src/sources/source.ts';
import type { HubspotFake } from '../../fakes/hubspot/hubspot-fake.ts';

/** A destination for the fake portal, built the way the engine builds it. */
export function hubspotFor(
  fake: HubspotFake,
  sync: { object: string; mode: SyncMode; match: Record<string, string>; fields: string[]; token?: string },
): Destination {
  const mapping: Record<string, FieldMapping> = Object.fromEntries(sync.fields.map((f) => [f, { kind: 'column', column: f }]));
  const config: SyncConfig = {
    name: `to_${sync.object}`,
    model: 'm',
    destination: 'crm',
    mode: sync.mode,
    match: sync.match,
    mapping,
    options: { object: sync.object },
  };
  return hubspotDestinationType.create({
    connection: { name: 'crm', type: 'hubspot', token: sync.token ?? fake.token, baseUrl: fake.url },
    options: { object: sync.object },
    sync: config,
    rootDir: '/tmp',
  });
}

export { recordingContext } from '../../helpers/write-context.ts';

/** A change as the engine hands it over: match fields are part of the payload. */
export function change(
  key: string,
  op: Change['op'],
  match: Record<string, Value>,
  fields: Record<string, Value> = {},
  destId?: string,
): Change {
  return { key, op, match, fields: op === 'delete' ? {} : { ...match, ...fields }, ...(destId ? { destId } : {}) };
}
