import { z } from 'zod';
import { serverUrl } from '../../config/url-setting.ts';
import type { DestinationType } from '../registry.ts';
import { sqlSyncOptions } from '../sql-batch.ts';
import { SERVER_SECRET_SETTINGS, serverConnectionSettings, serverSettings, type ServerSettings } from '../sql-connection.ts';
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
  url: serverUrl('postgres').optional(),
  ...serverConnectionSettings,
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
export interface PostgresSettings extends ServerSettings {
  ssl?: boolean | { rejectUnauthorized: boolean };
}

export function postgresSettings(connection: PostgresConnection): PostgresSettings {
  const settings: PostgresSettings = serverSettings(connection, 5432);
  const mode = connection.url ? new URL(connection.url).searchParams.get('sslmode') : null;
  if (mode === 'require' || mode === 'prefer') settings.ssl = { rejectUnauthorized: false };
  if (mode === 'verify-ca' || mode === 'verify-full') settings.ssl = { rejectUnauthorized: true };
  if (connection.ssl !== undefined) settings.ssl = connection.ssl ? { rejectUnauthorized: true } : false;
  return settings;
}

export const postgresDestinationType: DestinationType<PostgresConnection, PostgresSyncOptions> = {
  type: 'postgres',
  connection: postgresConnection,
  syncOptions: postgresSyncOptions,
  secretSettings: SERVER_SECRET_SETTINGS,
  create: (init) => new PostgresDestination(init),
};
