import { z } from 'zod';
import { serverUrl } from '../../config/url-setting.ts';
import type { DestinationType } from '../registry.ts';
import { sqlSyncOptions } from '../sql-batch.ts';
import { SERVER_SECRET_SETTINGS, serverConnectionSettings, serverSettings, type ServerSettings } from '../sql-connection.ts';
import { MysqlDestination } from './mysql-destination.ts';

/**
 * MySQL and MariaDB.
 * ```yaml
 * destinations:
 *   shop_db: { type: mysql, url: "mysql://lastmile@db:3306/shop", password: "${MYSQL_PASSWORD}" }
 * syncs:
 *   prices_to_shop: { …, destination: shop_db, table: prices, createTable: true }
 * ```
 * Settings written beside `url` win over the URL's own parts.
 */
export const mysqlConnection = z.object({
  url: serverUrl('mysql').optional(),
  ...serverConnectionSettings,
  /** true: TLS with certificate checks. */
  ssl: z.boolean().optional(),
});
export type MysqlConnection = z.output<typeof mysqlConnection>;

export const mysqlSyncOptions = z.object(sqlSyncOptions);
export type MysqlSyncOptions = z.output<typeof mysqlSyncOptions>;

/** What mysql2's pool needs, merged from the URL and the separate settings. */
export interface MysqlSettings extends ServerSettings {
  ssl?: { rejectUnauthorized: boolean };
}

export function mysqlSettings(connection: MysqlConnection): MysqlSettings {
  const settings: MysqlSettings = serverSettings(connection, 3306);
  if (connection.ssl) settings.ssl = { rejectUnauthorized: true };
  return settings;
}

export const mysqlDestinationType: DestinationType<MysqlConnection, MysqlSyncOptions> = {
  type: 'mysql',
  connection: mysqlConnection,
  syncOptions: mysqlSyncOptions,
  secretSettings: SERVER_SECRET_SETTINGS,
  create: (init) => new MysqlDestination(init),
};
