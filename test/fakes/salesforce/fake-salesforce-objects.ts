/**
 * Describe metadata of the objects the fake org holds, shaped like
 * `/services/data/vXX.X/sobjects/{Object}/describe` (the fields Lastmile and its tests read).
 */
export interface FakeField {
  name: string;
  label: string;
  type: string;
  length: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  externalId: boolean;
  idLookup: boolean;
  unique: boolean;
  defaultedOnCreate: boolean;
  restrictedPicklist: boolean;
  picklistValues: { value: string; label: string; active: boolean; defaultValue: boolean }[];
  precision: number;
  scale: number;
  digits: number;
}

export interface FakeObject {
  name: string;
  label: string;
  keyPrefix: string;
  fields: FakeField[];
}

type FieldInit = Partial<FakeField> & { name: string; type: string; values?: string[] };

function field(init: FieldInit): FakeField {
  const { values, ...rest } = init;
  const isText = ['string', 'textarea', 'email', 'phone', 'url', 'picklist'].includes(init.type);
  return {
    label: init.name.replace(/__c$/, '').replace(/_/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2'),
    length: isText ? 255 : init.type === 'id' || init.type === 'reference' ? 18 : 0,
    nillable: true, createable: true, updateable: true, externalId: false, idLookup: false, unique: false,
    defaultedOnCreate: false, restrictedPicklist: false, precision: 0, scale: 0, digits: 0,
    picklistValues: (values ?? []).map((value) => ({ value, label: value, active: true, defaultValue: false })),
    ...rest,
  };
}

const system = () => [
  field({ name: 'Id', type: 'id', nillable: false, createable: false, updateable: false, idLookup: true, defaultedOnCreate: true }),
  field({ name: 'CreatedDate', type: 'datetime', nillable: false, createable: false, updateable: false, defaultedOnCreate: true }),
  field({ name: 'LastModifiedDate', type: 'datetime', nillable: false, createable: false, updateable: false, defaultedOnCreate: true }),
  field({ name: 'IsDeleted', type: 'boolean', nillable: false, createable: false, updateable: false, defaultedOnCreate: true }),
];

export const FAKE_OBJECTS: Record<string, FakeObject> = {
  Contact: {
    name: 'Contact', label: 'Contact', keyPrefix: '003',
    fields: [
      ...system(),
      field({ name: 'FirstName', type: 'string', length: 40 }),
      field({ name: 'LastName', type: 'string', length: 80, nillable: false }),
      field({ name: 'Email', type: 'email', length: 80, idLookup: true }),
      field({ name: 'Phone', type: 'phone', length: 40 }),
      field({ name: 'Title', type: 'string', length: 128 }),
      field({ name: 'Birthdate', type: 'date' }),
      field({ name: 'HasOptedOutOfEmail', type: 'boolean', nillable: false, defaultedOnCreate: true }),
      field({ name: 'LeadSource', type: 'picklist', length: 255, values: ['Web', 'Phone Inquiry', 'Partner Referral', 'Other'] }),
      field({ name: 'Level__c', type: 'picklist', restrictedPicklist: true, values: ['Primary', 'Secondary', 'Tertiary'] }),
      field({ name: 'Score__c', type: 'double', precision: 18, scale: 2 }),
      field({ name: 'Purchases__c', type: 'int', digits: 9 }),
      field({ name: 'LastPurchase__c', type: 'datetime' }),
      field({ name: 'External_Id__c', type: 'string', length: 64, externalId: true, idLookup: true, unique: true }),
      field({ name: 'AccountId', type: 'reference', length: 18 }),
      field({ name: 'Description', type: 'textarea', length: 32000 }),
    ],
  },
  Account: {
    name: 'Account', label: 'Account', keyPrefix: '001',
    fields: [
      ...system(),
      field({ name: 'Name', type: 'string', length: 255, nillable: false, idLookup: true }),
      field({ name: 'AnnualRevenue', type: 'currency', precision: 18, scale: 0 }),
      field({ name: 'NumberOfEmployees', type: 'int', digits: 8 }),
      field({ name: 'Industry', type: 'picklist', values: ['Agriculture', 'Banking', 'Retail', 'Technology'] }),
      field({ name: 'Website', type: 'url' }),
      field({ name: 'Account_Number__c', type: 'string', length: 40, externalId: true, idLookup: true, unique: true }),
    ],
  },
  Product2: {
    name: 'Product2', label: 'Product', keyPrefix: '01t',
    fields: [
      ...system(),
      field({ name: 'Name', type: 'string', length: 255, nillable: false, idLookup: true }),
      field({ name: 'ProductCode', type: 'string', length: 255 }),
      field({ name: 'IsActive', type: 'boolean', nillable: false, defaultedOnCreate: true }),
      field({ name: 'Family', type: 'picklist', values: ['Hardware', 'Software', 'Services'] }),
      field({ name: 'Description', type: 'textarea', length: 4000 }),
      field({ name: 'ExternalId', type: 'string', length: 255, externalId: true, idLookup: true }),
      field({ name: 'Price__c', type: 'currency', precision: 16, scale: 2 }),
    ],
  },
};

/** The describe answer for one object. */
export function describeAnswer(object: FakeObject, baseUrl: string, version: string): unknown {
  return {
    name: object.name, label: object.label, keyPrefix: object.keyPrefix, custom: false,
    createable: true, updateable: true, deletable: true, queryable: true,
    fields: object.fields,
    urls: { sobject: `/services/data/v${version}/sobjects/${object.name}`, describe: `/services/data/v${version}/sobjects/${object.name}/describe` },
    baseUrl,
  };
}
