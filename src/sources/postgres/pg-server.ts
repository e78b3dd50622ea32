import pg from 'pg';
import { RunError } from '../../errors.ts';
import { serverLabel, sourceFailure } from '../server-connection.ts';
import type { Column, Row } from '../source.ts';

/** Every value comes as the server's text: the *-values.ts converters read it exactly. */
export const RAW_TEXT = { getTypeParser: () => (text: string) => text } as unknown as pg.CustomTypesConfig;

export interface PgServerSettings {
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean | 'no-verify';
}

/** What differs between the servers that speak the Postgres wire protocol. */
export interface PgServerKind {
  /** In messages: "Postgres", "Redshift". */
  product: string;
  defaultPort: number;
  /** The URL the driver takes (a `redshift://` URL is a `postgres://` one). */
  connectionString?: (url: string) => string;
}

/**
 * The pool of a source on a server speaking the Postgres wire protocol (Postgres, Redshift):
 * connections, the check, and errors that name the source and server but never the password.
 */
export class PgServer {
  private pool?: pg.Pool;

  constructor(private readonly source: string, private readonly settings: PgServerSettings, private readonly kind: PgServerKind) {}

  async check(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const client = await this.connect();
    try {
      await client.query('SELECT 1');
    } catch (error) {
      throw this.failure('the check query failed', error);
    } finally {
      client.release();
    }
  }

  async connect(): Promise<pg.PoolClient> {
    this.pool ??= this.createPool();
    try {
      return await this.pool.connect();
    } catch (error) {
      throw this.failure(`cannot connect to ${this.kind.product} at ${serverLabel(this.settings, this.kind.defaultPort)}`, error);
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  failure(what: string, error: unknown): RunError {
    return sourceFailure(this.source, this.settings, what, error);
  }

  private createPool(): pg.Pool {
    const { url, host, port, user, password, database, ssl } = this.settings;
    const pool = new pg.Pool({
      ...(url ? { connectionString: this.kind.connectionString?.(url) ?? url } : { host, port: port ?? this.kind.defaultPort, user, password, database }),
      ...(ssl === undefined ? {} : { ssl: ssl === 'no-verify' ? { rejectUnauthorized: false } : ssl }),
      max: 4,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      application_name: 'lastmile',
    });
    // Idle clients can lose their server; without a listener that error would crash the process.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      // So can a client in use: a read hears of it through its own listeners.
      client.on('error', () => {});
      // Dates in ISO form whatever the server's default, so they parse the same everywhere
      // (written as Redshift documents SET, which Postgres takes too).
      void client.query(`SET DATESTYLE TO 'ISO, YMD'`).catch(() => {});
    });
    return pool;
  }
}

/** A row of raw texts, each converted by its column's converter (null stays null). */
export function textRow(raw: unknown[], columns: Column[], converters: ((text: string) => unknown)[]): Row {
  const row: Row = {};
  for (let c = 0; c < columns.length; c++) {
    const text = raw[c];
    row[columns[c]!.name] = text === null || text === undefined ? null : (converters[c]!(text as string) as Row[string]);
  }
  return row;
}
