/**
 * The portal the fake serves: object types and their property definitions, shaped like
 * `GET /crm/v3/properties/{objectType}` answers them (type, fieldType, options, hasUniqueValue).
 */
export type PropertyType = 'string' | 'number' | 'bool' | 'date' | 'datetime' | 'enumeration' | 'phone_number';

export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  options: { label: string; value: string; displayOrder: number; hidden: boolean }[];
  hasUniqueValue: boolean;
  calculated: boolean;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean };
  groupName: string;
  hubspotDefined?: boolean;
}

export interface ObjectTypeDefinition {
  /** `0-1` for contacts, `2-…` for custom objects. */
  objectTypeId: string;
  /** Path names HubSpot accepts for this type (`contacts`, `0-1`). */
  names: string[];
  /** Upper-case singular used in HubSpot's messages (`CONTACT`). */
  singular: string;
  properties: PropertyDefinition[];
}

export const PORTAL_ID = 12345678;
export const CUSTOM_OBJECT_TYPE_ID = '2-1234567';

function prop(
  name: string,
  type: PropertyType,
  fieldType: string,
  extra: { options?: string[]; unique?: boolean; readOnly?: boolean; hubspot?: boolean } = {},
): PropertyDefinition {
  return {
    name,
    label: name.replace(/_/g, ' '),
    type,
    fieldType,
    options: (extra.options ?? []).map((value, i) => ({ label: value, value, displayOrder: i, hidden: false })),
    hasUniqueValue: extra.unique ?? false,
    calculated: false,
    modificationMetadata: { archivable: !extra.hubspot, readOnlyDefinition: !!extra.hubspot, readOnlyValue: !!extra.readOnly },
    groupName: 'information',
    ...(extra.hubspot ? { hubspotDefined: true } : {}),
  };
}

const BOOL_OPTIONS = ['true', 'false'];

/** Properties every object has, that only HubSpot writes. */
function systemProperties(): PropertyDefinition[] {
  return [
    prop('hs_object_id', 'number', 'number', { readOnly: true, hubspot: true }),
    prop('createdate', 'datetime', 'date', { readOnly: true, hubspot: true }),
    prop('hs_lastmodifieddate', 'datetime', 'date', { readOnly: true, hubspot: true }),
  ];
}

export const OBJECT_TYPES: ObjectTypeDefinition[] = [
  {
    objectTypeId: '0-1',
    names: ['contacts', 'contact', '0-1'],
    singular: 'CONTACT',
    properties: [
      ...systemProperties(),
      prop('email', 'string', 'text', { hubspot: true }),
      prop('firstname', 'string', 'text', { hubspot: true }),
      prop('lastname', 'string', 'text', { hubspot: true }),
      prop('company', 'string', 'text', { hubspot: true }),
      prop('phone', 'string', 'phonenumber', { hubspot: true }),
      prop('lifecyclestage', 'enumeration', 'radio', {
        hubspot: true,
        options: ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'],
      }),
      prop('date_of_birth', 'date', 'date'),
      prop('last_purchase_at', 'datetime', 'date'),
      prop('is_vip', 'bool', 'booleancheckbox', { options: BOOL_OPTIONS }),
      prop('lifetime_value', 'number', 'number'),
      prop('interests', 'enumeration', 'checkbox', { options: ['pricing', 'analytics', 'integrations'] }),
      prop('external_id', 'string', 'text', { unique: true }),
    ],
  },
  {
    objectTypeId: '0-2',
    names: ['companies', 'company', '0-2'],
    singular: 'COMPANY',
    properties: [
      ...systemProperties(),
      prop('name', 'string', 'text', { hubspot: true }),
      prop('domain', 'string', 'text', { hubspot: true }),
      prop('industry', 'enumeration', 'select', { hubspot: true, options: ['COMPUTER_SOFTWARE', 'RETAIL', 'FINANCIAL_SERVICES', 'HOSPITALITY'] }),
      prop('numberofemployees', 'number', 'number', { hubspot: true }),
      prop('annualrevenue', 'number', 'number', { hubspot: true }),
      prop('founded_on', 'date', 'date'),
      prop('is_partner', 'enumeration', 'booleancheckbox', { options: BOOL_OPTIONS }),
      prop('external_id', 'string', 'text', { unique: true }),
    ],
  },
  {
    objectTypeId: '0-3',
    names: ['deals', 'deal', '0-3'],
    singular: 'DEAL',
    properties: [
      ...systemProperties(),
      prop('dealname', 'string', 'text', { hubspot: true }),
      prop('amount', 'number', 'number', { hubspot: true }),
      prop('pipeline', 'enumeration', 'select', { hubspot: true, options: ['default'] }),
      prop('dealstage', 'enumeration', 'radio', {
        hubspot: true,
        options: ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'],
      }),
      prop('closedate', 'datetime', 'date', { hubspot: true }),
      prop('external_id', 'string', 'text', { unique: true }),
    ],
  },
  {
    objectTypeId: CUSTOM_OBJECT_TYPE_ID,
    names: [CUSTOM_OBJECT_TYPE_ID, `p${PORTAL_ID}_pets`],
    singular: 'PET',
    properties: [
      ...systemProperties(),
      prop('pet_name', 'string', 'text'),
      prop('species', 'enumeration', 'select', { options: ['dog', 'cat', 'bird'] }),
      prop('birthday', 'date', 'date'),
      prop('weight_kg', 'number', 'number'),
      prop('vaccinated', 'bool', 'booleancheckbox', { options: BOOL_OPTIONS }),
      prop('pet_id', 'string', 'text', { unique: true }),
    ],
  },
];

export function findObjectType(name: string): ObjectTypeDefinition | undefined {
  const wanted = name.toLowerCase();
  return OBJECT_TYPES.find((t) => t.names.some((n) => n.toLowerCase() === wanted));
}

export function findProperty(type: ObjectTypeDefinition, name: string): PropertyDefinition | undefined {
  return type.properties.find((p) => p.name === name);
}

/** Upsert and update by idProperty need a unique-value property (contacts also accept `email`). */
export function canIdentifyBy(type: ObjectTypeDefinition, name: string): boolean {
  if (type.objectTypeId === '0-1' && name === 'email') return true;
  return findProperty(type, name)?.hasUniqueValue === true;
}
