import { z } from 'zod';
import type { DestinationType } from '../registry.ts';
import { sqlSyncOptions } from '../sql-batch.ts';
import { PostgresDestination } from './postgres-destination.ts';

/**
 * ```yaml
 * destinations:
 *   app_db: { type: postgres, url: "postgres://lastmile@db:5432/app", password: "${PG_PASSWORD}" }
 * syncs:
 *   prices_to_app: { …, destination: app_db, table: pricing.prices, createTable: true }
 * ```
 * Settings written beside `url` win over the URL's own parts.
 */
export const postgresConnection = z.object({
  url: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
  host: z.string().min(1).optional(),
  port: z.coerce.number().int().positive().optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  database: z.string().min(1).optional(),
  /** true: TLS with certificate checks. URLs may say `?sslmode=require` (TLS, no checks) instead. */
  ssl: z.boolean().optional(),
});
export type PostgresConnection = z.output<typeof postgresConnection>;

export const postgresSyncOptions = z.object({
  ...sqlSyncOptions,
  /** Insert batches above this many rows go through COPY … FROM STDIN instead of INSERT. */
  copyThreshold: z.number().int().nonnegative().default(1000),
});
export type PostgresSyncOptions = z.output<typeof postgresSyncOptions>;

/** What pg.Pool needs, merged from the URL and the separate settings. */
export interface PostgresSettings {
  host: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
}

export function postgresSettings(connection: PostgresConnection): PostgresSettings {
  const settings: PostgresSettings = { host: '127.0.0.1', port: 5432 };
  if (connection.url) {
    const url = new URL(connection.url);
    if (url.hostname) settings.host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1');
    if (url.port) settings.port = Number(url.port);
    if (url.username) settings.user = decodeURIComponent(url.username);
    if (url.password) settings.password = decodeURIComponent(url.password);
    if (url.pathname.length > 1) settings.database = decodeURIComponent(url.pathname.slice(1));
    const mode = url.searchParams.get('sslmode');
    if (mode === 'require' || mode === 'prefer') settings.ssl = { rejectUnauthorized: false };
    if (mode === 'verify-ca' || mode === 'verify-full') settings.ssl = { rejectUnauthorized: true };
  }
  if (connection.host) settings.host = connection.host;
  if (connection.port) settings.port = connection.port;
  if (connection.user) settings.user = connection.user;
  if (connection.password !== undefined) settings.password = connection.password;
  if (connection.database) settings.database = connection.database;
  if (connection.ssl !== undefined) settings.ssl = connection.ssl ? { rejectUnauthorized: true } : false;
  return settings;
}

export const postgresDestinationType: DestinationType<PostgresConnection, PostgresSyncOptions> = {
  type: 'postgres',
  connection: postgresConnection,
  syncOptions: postgresSyncOptions,
  // The URL may carry the password.
  secretSettings: ['password', 'url'],
  create: (init) => new PostgresDestination(init),
};
