import { z } from 'zod';

/**
 * How SQL destinations (postgres/, mysql/) reach their server: a `url`, and separate settings
 * written beside it that win over the URL's own parts. The URL's scheme and what `ssl` turns
 * on stay with each dialect.
 */

/** The connection settings besides `url` and `ssl`. */
export const serverConnectionSettings = {
  host: z.string().min(1).optional(),
  port: z.coerce.number().int().positive().optional(),
  user: z.string().min(1).optional(),
  password: z.string().optional(),
  database: z.string().min(1).optional(),
};
type ServerConnection = { url?: string } & z.output<z.ZodObject<typeof serverConnectionSettings>>;

/** Connection settings that hold secrets: the password, and the URL, which may carry it. */
export const SERVER_SECRET_SETTINGS = ['password', 'url'];

/** Where the driver connects, merged from the URL and the separate settings. */
export interface ServerSettings {
  host: string;
  port: number;
  user?: string;
  password?: string;
  database?: string;
}

export function serverSettings(connection: ServerConnection, defaultPort: number): ServerSettings {
  const settings: ServerSettings = { host: '127.0.0.1', port: defaultPort };
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
  return settings;
}
