import type { FakeField } from './fake-salesforce-objects.ts';

const NUMBER_TYPES = new Set(['int', 'long', 'double', 'currency', 'percent']);
const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[-+]\d{2}:?\d{2})?)?$/;

/**
 * Why a JSON value cannot be read as the field's type. sObject Collections fails the
 * whole request on the first such value with 400 JSON_PARSER_ERROR.
 */
export function jsonTypeError(field: FakeField, value: unknown): string | undefined {
  if (value === null) return undefined;
  const kind = typeof value === 'string' ? 'VALUE_STRING' : typeof value === 'number' ? 'VALUE_NUMBER' : typeof value === 'boolean' ? 'VALUE_BOOLEAN' : Array.isArray(value) ? 'START_ARRAY' : 'START_OBJECT';
  const refuse = () => `Cannot deserialize instance of ${field.type} from ${kind} value ${JSON.stringify(value)} or request may be missing a required field`;
  if (typeof value === 'object') return refuse();
  if (NUMBER_TYPES.has(field.type)) return typeof value === 'number' || (typeof value === 'string' && NUMERIC.test(value)) ? undefined : refuse();
  if (field.type === 'boolean') return typeof value === 'boolean' || value === 'true' || value === 'false' ? undefined : refuse();
  if (field.type === 'date') return typeof value === 'string' && DATE.test(value.slice(0, 10)) ? undefined : refuse();
  if (field.type === 'datetime') return typeof value === 'string' && DATETIME.test(value) ? undefined : refuse();
  return undefined;
}

/**
 * A Bulk API CSV cell as a value: empty leaves the field alone (undefined), `#N/A` sets
 * null. A cell that cannot be the field's type fails its row only.
 */
export function csvCell(field: FakeField, cell: string): { value?: unknown; error?: string } {
  if (cell === '') return {};
  if (cell === '#N/A') return { value: null };
  const bad = { error: `${field.label}: value not of required type: ${cell}` };
  if (NUMBER_TYPES.has(field.type)) return NUMERIC.test(cell) ? { value: Number(cell) } : bad;
  if (field.type === 'boolean') {
    const lower = cell.toLowerCase();
    return ['true', '1', 'yes'].includes(lower) ? { value: true } : ['false', '0', 'no'].includes(lower) ? { value: false } : bad;
  }
  if (field.type === 'date') return DATE.test(cell) ? { value: cell } : bad;
  if (field.type === 'datetime') return DATETIME.test(cell) ? { value: cell } : bad;
  return { value: cell };
}
