import { z } from 'zod';
import type { DestinationType } from '../registry.ts';
import { sqlSyncOptions } from '../sql-batch.ts';
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
  url: z.string().regex(/^(mysql|mariadb):\/\//, 'must start with mysql:// or mariadb://').optional(),
  host: z.string().min(1).optional(),
  port: z.coerce.number().int().positive().optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  database: z.string().min(1).optional(),
  /** true: TLS with certificate checks. */
  ssl: z.boolean().optional(),
});
export type MysqlConnection = z.output<typeof mysqlConnection>;

export const mysqlSyncOptions = z.object(sqlSyncOptions);
export type MysqlSyncOptions = z.output<typeof mysqlSyncOptions>;

export interface MysqlSettings {
  host: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: { rejectUnauthorized: boolean };
}

export function mysqlSettings(connection: MysqlConnection): MysqlSettings {
  const settings: MysqlSettings = { host: '127.0.0.1', port: 3306 };
  if (connection.url) {
    const url = new URL(connection.url);
    if (url.hostname) settings.host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1');
    if (url.port) settings.port = Number(url.port);
    if (url.username) settings.user = decodeURIComponent(url.username);
    if (url.password) settings.password = decodeURIComponent(url.password);
    if (url.pathname.length > 1) settings.database = decodeURIComponent(url.pathname.slice(1));
  }
  if (connection.host) settings.host = connection.host;
  if (connection.port) settings.port = connection.port;
  if (connection.user) settings.user = connection.user;
  if (connection.password !== undefined) settings.password = connection.password;
  if (connection.database) settings.database = connection.database;
  if (connection.ssl) settings.ssl = { rejectUnauthorized: true };
  return settings;
}

export const mysqlDestinationType: DestinationType<MysqlConnection, MysqlSyncOptions> = {
  type: 'mysql',
  connection: mysqlConnection,
  syncOptions: mysqlSyncOptions,
  // The URL may carry the password.
  secretSettings: ['password', 'url'],
  create: (init) => new MysqlDestination(init),
};
