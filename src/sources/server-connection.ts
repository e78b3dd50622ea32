import { RunError } from '../errors.ts';
import { redact } from '../config/redact.ts';

/** Connection settings shared by the database-server sources (Postgres, MySQL). */
export interface ServerSettings {
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  password?: string;
}

/** host:port/database for messages, never the password. */
export function serverLabel(settings: ServerSettings, defaultPort: number): string {
  const { url, host, port, database } = settings;
  if (!url) return `${host}:${port ?? defaultPort}/${database ?? ''}`;
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || defaultPort}${parsed.pathname}`;
  } catch {
    return 'the configured url';
  }
}

/** A RunError naming the source and what failed, with the driver's message and no password in it. */
export function sourceFailure(source: string, settings: ServerSettings, what: string, error: unknown): RunError {
  const detail = error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || error.name : String(error);
  const secrets = [settings.password, urlPassword(settings.url)].filter((s): s is string => !!s);
  return new RunError(`source "${source}": ${what}: ${redact(detail, secrets)}`, { cause: error });
}

function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
