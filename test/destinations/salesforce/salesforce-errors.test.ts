import { describe, expect, it } from 'vitest';
import { parseBulkError, rejectionFor, requestError } from '../../../src/destinations/salesforce/salesforce-errors.ts';
import { parseLimitInfo } from '../../../src/destinations/salesforce/salesforce-client.ts';
import { literal } from '../../../src/destinations/salesforce/salesforce-lookup.ts';
import { csvValue, typeProblem } from '../../../src/destinations/salesforce/salesforce-values.ts';
import type { SalesforceField } from '../../../src/destinations/salesforce/salesforce-describe.ts';

describe('Salesforce answers, read', () => {
  it('reads Bulk API error cells into code, message and fields', () => {
    expect(parseBulkError('STRING_TOO_LONG:Last Name: data value too large: zzz (max length=80):LastName --'))
      .toEqual({ statusCode: 'STRING_TOO_LONG', message: 'Last Name: data value too large: zzz (max length=80)', fields: ['LastName'] });
    expect(parseBulkError('REQUIRED_FIELD_MISSING:Required fields are missing: [LastName, Email]:LastName,Email --'))
      .toMatchObject({ statusCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName', 'Email'] });
    expect(parseBulkError('DUPLICATE_VALUE:duplicate value found: External_Id__c duplicates value on record with id: 0035g00000abcdeAAA:--'))
      .toEqual({ statusCode: 'DUPLICATE_VALUE', message: 'duplicate value found: External_Id__c duplicates value on record with id: 0035g00000abcdeAAA', fields: [] });
  });

  it('sorts per-record codes into categories; only momentary ones are retryable', () => {
    const category = (statusCode: string) => rejectionFor({ statusCode, message: 'm', fields: ['F'] });
    expect(category('STRING_TOO_LONG')).toEqual({ category: 'schema_mismatch', code: 'STRING_TOO_LONG', message: 'm', field: 'F', retryable: false });
    expect(category('REQUIRED_FIELD_MISSING').category).toBe('schema_mismatch');
    expect(category('INVALID_EMAIL_ADDRESS').category).toBe('schema_mismatch');
    for (const code of ['NOT_FOUND', 'ENTITY_IS_DELETED', 'MALFORMED_ID', 'INVALID_CROSS_REFERENCE_KEY']) expect(category(code).category).toBe('missing_identifier');
    expect(category('UNABLE_TO_LOCK_ROW')).toMatchObject({ category: 'destination_error', retryable: true });
    expect(category('FIELD_CUSTOM_VALIDATION_EXCEPTION')).toMatchObject({ category: 'destination_error', retryable: false });
  });

  it('maps whole-request failures to the kind the engine acts on', () => {
    const kind = (status: number, errorCode: string, headers: Record<string, string> = {}) =>
      requestError('crm', 'POST /composite/sobjects', status, [{ errorCode, message: 'm' }], new Headers(headers));
    expect(kind(403, 'REQUEST_LIMIT_EXCEEDED', { 'sforce-limit-info': 'api-usage=100000/100000' }).message)
      .toBe('destination "crm": Salesforce answered REQUEST_LIMIT_EXCEEDED (daily API quota used: 100,000/100,000)'); // the engine says how many rows wait
    expect(kind(403, 'REQUEST_LIMIT_EXCEEDED').kind).toBe('quota');
    expect(kind(503, 'SERVER_UNAVAILABLE').kind).toBe('transient');
    expect(kind(400, 'UNABLE_TO_LOCK_ROW').kind).toBe('transient');
    expect(kind(429, 'REQUEST_LIMIT', { 'retry-after': '7' })).toMatchObject({ kind: 'rate_limited', retryAfterMs: 7000 });
    expect(kind(400, 'INVALID_FIELD').kind).toBe('config');
    expect(kind(404, 'NOT_FOUND').kind).toBe('config');
    expect(kind(400, 'JSON_PARSER_ERROR')).toMatchObject({ kind: 'terminal', category: 'schema_mismatch' });
  });

  it('reads Sforce-Limit-Info', () => {
    expect(parseLimitInfo('api-usage=14950/15000')).toEqual({ dailyLimit: 15_000, dailyRemaining: 50 });
    expect(parseLimitInfo('per-app-api-usage=17/250(appName=sample-app), api-usage=25/5000')).toEqual({ dailyLimit: 5000, dailyRemaining: 4975 });
    expect(parseLimitInfo(null)).toBeUndefined();
  });

  it('quotes SOQL literals so a value cannot end the string', () => {
    expect(literal("o'brien@example.com")).toBe("'o\\'brien@example.com'");
    expect(literal("x\\' OR Name != '")).toBe("'x\\\\\\' OR Name != \\''");
    expect(literal(42)).toBe('42');
  });

  it('writes null as #N/A in Bulk CSV, so it clears the field instead of leaving it', () => {
    const field = { name: 'Title', type: 'string' } as SalesforceField;
    expect(csvValue(null, field)).toBe('#N/A');
    expect(csvValue(true, field)).toBe('true');
    expect(csvValue(['a', 'b'], { name: 'Tags__c', type: 'multipicklist' } as SalesforceField)).toBe('a;b');
  });

  it('knows which values Salesforce cannot read as a field\'s type', () => {
    const of = (type: string) => ({ name: 'F', type } as SalesforceField);
    expect(typeProblem('12.50', of('currency'))).toBeUndefined();
    expect(typeProblem(12n, of('int'))).toBeUndefined();
    expect(typeProblem('lots', of('double'))).toContain('value not of required type double');
    expect(typeProblem(1.5, of('int'))).toContain('whole number');
    expect(typeProblem('2024-02-30', of('date'))).toContain('date');
    expect(typeProblem('2024-02-29T10:00:00Z', of('datetime'))).toBeUndefined();
    expect(typeProblem('yes', of('boolean'))).toContain('boolean');
    expect(typeProblem('anything', of('string'))).toBeUndefined();
  });
});
