import pg from 'pg';
import { vi } from 'vitest';
import { SERVICES } from './services.ts';

/**
 * The local Postgres standing in for Redshift (the same wire protocol). Redshift's STRTOL, which
 * recipe v1 in Redshift SQL uses, has no Postgres twin: this one takes base 16 only.
 */
export const REDSHIFT_STRTOL = `CREATE OR REPLACE FUNCTION public.strtol(text, integer) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN $2 = 16 THEN ('x' || lpad($1, 16, '0'))::bit(64)::bigint END $$`;

/** A redshift:// URL of the stand-in, its session in a zone away from UTC. */
export function redshiftStandInUrl(): string {
  return `${SERVICES.postgres.url}?options=${encodeURIComponent('-c TimeZone=Asia/Kolkata')}`.replace(/^postgres:/, 'redshift:');
}

/**
 * From now until vi.restoreAllMocks(), adds to `sent` the text of every statement a pg client
 * sends, but `ignored()`'s (the test's own set-up on the stand-in): what Lastmile sent, to be
 * checked against the statements Redshift documents.
 */
export function recordStatements(sent: string[], ignored: () => pg.Client | undefined): void {
  const query = pg.Client.prototype.query;
  vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    if (this !== ignored()) {
      const config = args[0] as string | { text?: string };
      sent.push(typeof config === 'string' ? config : config?.text ?? '');
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as never);
}
