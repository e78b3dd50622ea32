import type pg from 'pg';
import { quoteIdent } from '../row-state-sql.ts';

/**
 * Tables of the Postgres store, in one schema (default `lastmile`). Every statement is
 * idempotent and runs under an advisory lock, so processes opening the store at once agree.
 *
 * `fp` is NUMERIC(20,0): the fingerprint is an unsigned 64-bit integer, which BIGINT cannot
 * hold without a signed reinterpretation; NUMERIC keeps the same decimal a user sees in DuckDB.
 */
export function schemaSql(schema: string): string {
  const s = quoteIdent(schema);
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.row_state (
  sync text NOT NULL, key text NOT NULL, fp numeric(20,0) NOT NULL, status text NOT NULL,
  dest_id text, match jsonb, PRIMARY KEY (sync, key));
ALTER TABLE ${s}.row_state ADD COLUMN IF NOT EXISTS local_fp numeric(20,0);
CREATE TABLE IF NOT EXISTS ${s}.row_state_recipe (sync text PRIMARY KEY, fingerprint text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.runs (
  run_id text PRIMARY KEY, seq bigserial, sync text NOT NULL, started_at timestamptz NOT NULL,
  summary json NOT NULL, profile json NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_sync ON ${s}.runs (sync, started_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS runs_by_start ON ${s}.runs (started_at DESC, seq DESC);
CREATE TABLE IF NOT EXISTS ${s}.trace (
  id bigserial PRIMARY KEY, run_id text NOT NULL, at text NOT NULL, step smallint NOT NULL, text text NOT NULL);
CREATE INDEX IF NOT EXISTS trace_by_run ON ${s}.trace (run_id, id);
CREATE TABLE IF NOT EXISTS ${s}.rejected (
  id bigserial PRIMARY KEY, run_id text NOT NULL, sync text NOT NULL, key text NOT NULL, category text NOT NULL,
  field text, code text, message text NOT NULL, retryable boolean NOT NULL, at text NOT NULL);
CREATE INDEX IF NOT EXISTS rejected_by_run ON ${s}.rejected (run_id, category, id);
ALTER TABLE ${s}.rejected ADD COLUMN IF NOT EXISTS sent json;
CREATE INDEX IF NOT EXISTS rejected_by_sync ON ${s}.rejected (sync, key, id);
CREATE TABLE IF NOT EXISTS ${s}.paused (sync text PRIMARY KEY, at text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.cursors (sync text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS ${s}.locks (
  sync text PRIMARY KEY, run_id text NOT NULL, pid integer NOT NULL, host text NOT NULL, heartbeat_at timestamptz NOT NULL);
`;
}

export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lastmile-migrate:${schema}`]);
    await client.query(schemaSql(schema));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
