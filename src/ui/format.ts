export { formatTrace, TRACE_STEPS, traceStepLabel } from '../engine/trace-format.ts';

const numberFormat = new Intl.NumberFormat('en-US');

/** Exact counts with thousands separators: 14205 -> "14,205". */
export const n = (value: number | undefined | null) => numberFormat.format(value ?? 0);

export function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  // From whole seconds, so 119.6 s reads "2 min 0 s", never "1 min 60 s".
  const total = Math.round(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function seconds(value: number): string {
  return duration(Math.round(value * 1000));
}

/** "3 min ago", "in 2 h": times near now, with the exact time in a tooltip. */
export function relative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's']];
  const [size, unit] = units.find(([size]) => abs >= size) ?? [1000, 's'];
  const value = Math.max(0, Math.round(abs / size));
  if (value === 0 && unit === 's') return 'just now';
  return diff < 0 ? `${value} ${unit} ago` : `in ${value} ${unit}`;
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });
}

const TYPE_LABELS: Record<string, string> = {
  duckdb: 'DuckDB', postgres: 'PostgreSQL', mysql: 'MySQL', sqlite: 'SQLite', files: 'Files', snowflake: 'Snowflake',
  bigquery: 'BigQuery', clickhouse: 'ClickHouse', redshift: 'Redshift', http: 'HTTP', salesforce: 'Salesforce',
  hubspot: 'HubSpot', nats: 'NATS', rabbitmq: 'RabbitMQ', redis: 'Redis',
};
export const typeLabel = (type: string) => TYPE_LABELS[type] ?? type;

export const CATEGORY_LABELS: Record<string, string> = {
  rate_limit: 'Destination API rate limits',
  schema_mismatch: 'Schema mismatch',
  missing_identifier: 'Missing identifiers',
  destination_error: 'API timeout / 5xx errors',
  stale_data: 'Stale warehouse data',
  invalid_row: 'Invalid rows',
};
