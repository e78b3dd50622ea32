import { findObjectType, findProperty, type ObjectTypeDefinition } from './fake-schema.ts';
import { normaliseValue } from './fake-validation.ts';

/** A CRM record as the fake keeps it; tests read these to see what arrived. */
export interface StoredObject {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** The portal's records, per object type, in memory, indexed by property value. */
export class FakeStore {
  private nextId = 1001;
  private readonly byType = new Map<string, Map<string, StoredObject>>();
  /** type id -> property -> value -> ids holding it (lookups stay fast at 100,000 records). */
  private readonly index = new Map<string, Map<string, Map<string, Set<string>>>>();

  /** Live (not archived) records of a type, by name (`contacts`) or id (`0-1`). */
  list(typeName: string): StoredObject[] {
    return [...this.records(this.type(typeName)).values()].filter((o) => !o.archived);
  }

  /** Archived records too, as HubSpot keeps them for 90 days. */
  listAll(typeName: string): StoredObject[] {
    return [...this.records(this.type(typeName)).values()];
  }

  get(typeName: string, id: string): StoredObject | undefined {
    const found = this.records(this.type(typeName)).get(id);
    return found && !found.archived ? found : undefined;
  }

  /** Finds a live record by a property value (emails compare without case, as HubSpot does). */
  findBy(type: ObjectTypeDefinition | string, property: string, value: string): StoredObject | undefined {
    const def = typeof type === 'string' ? this.type(type) : type;
    if (property === 'hs_object_id' || property === 'id') return this.get(def.objectTypeId, value);
    const wanted = property === 'email' ? value.toLowerCase() : value;
    for (const id of this.holders(def, property, wanted)) {
      const o = this.records(def).get(id);
      if (o && !o.archived) return o;
    }
    return undefined;
  }

  /** Seeds a record directly, as if it had been created in HubSpot's UI. */
  seed(typeName: string, properties: Record<string, string>): StoredObject {
    return this.create(this.type(typeName), properties);
  }

  create(type: ObjectTypeDefinition, properties: Record<string, unknown>): StoredObject {
    const id = String(this.nextId++);
    const now = new Date().toISOString();
    const stored: StoredObject = { id, properties: {}, createdAt: now, updatedAt: now, archived: false };
    this.write(type, stored, properties);
    stored.properties.hs_object_id = id;
    stored.properties.createdate = now;
    this.records(type).set(id, stored);
    return stored;
  }

  update(type: ObjectTypeDefinition, stored: StoredObject, properties: Record<string, unknown>): StoredObject {
    this.write(type, stored, properties);
    stored.updatedAt = new Date().toISOString();
    return stored;
  }

  archive(type: ObjectTypeDefinition, id: string): void {
    const stored = this.records(type).get(id);
    if (stored) stored.archived = true;
  }

  /** The live record of another id that already holds one of `properties`' unique values. */
  conflictOf(type: ObjectTypeDefinition, properties: Record<string, unknown>, selfId?: string): StoredObject | undefined {
    for (const [name, raw] of Object.entries(properties)) {
      const def = findProperty(type, name);
      const unique = def?.hasUniqueValue || (type.objectTypeId === '0-1' && name === 'email');
      if (!unique || raw === null || raw === '') continue;
      const holder = this.findBy(type, name, normaliseValue(def, raw));
      if (holder && holder.id !== selfId) return holder;
    }
    return undefined;
  }

  private write(type: ObjectTypeDefinition, stored: StoredObject, properties: Record<string, unknown>): void {
    for (const [name, raw] of Object.entries(properties)) {
      const value = normaliseValue(findProperty(type, name), raw);
      const before = stored.properties[name];
      if (before !== undefined) this.holders(type, name, before).delete(stored.id);
      stored.properties[name] = value;
      if (value !== '') this.holders(type, name, value).add(stored.id);
    }
    stored.properties.hs_lastmodifieddate = new Date().toISOString();
  }

  private holders(type: ObjectTypeDefinition, property: string, value: string): Set<string> {
    let byProperty = this.index.get(type.objectTypeId);
    if (!byProperty) this.index.set(type.objectTypeId, (byProperty = new Map()));
    let byValue = byProperty.get(property);
    if (!byValue) byProperty.set(property, (byValue = new Map()));
    let ids = byValue.get(value);
    if (!ids) byValue.set(value, (ids = new Set()));
    return ids;
  }

  private type(name: string): ObjectTypeDefinition {
    const def = findObjectType(name);
    if (!def) throw new Error(`the HubSpot fake has no object type "${name}"`);
    return def;
  }

  private records(type: ObjectTypeDefinition): Map<string, StoredObject> {
    let records = this.byType.get(type.objectTypeId);
    if (!records) this.byType.set(type.objectTypeId, (records = new Map()));
    return records;
  }
}
