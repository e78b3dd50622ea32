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
