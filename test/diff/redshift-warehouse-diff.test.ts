import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedshiftSource } from '../../src/sources/redshift/redshift-source.ts';
import { redshiftFingerprint } from '../../src/diff/fingerprint/redshift-fingerprint.ts';
import { redshiftDialect } from '../../src/diff/warehouse/redshift-dialect.ts';
import type { Column } from '../../src/sources/source.ts';
import { sqlAgreement } from './sql-agreement.ts';
import { quoteIdentifier } from '../../src/sql-identifier.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { recordStatements, REDSHIFT_STRTOL, redshiftStandInUrl } from '../helpers/redshift-stand-in.ts';
import { diffConformance } from '../conformance/diff-conformance.ts';
import { COLUMNS, generateRows } from './fingerprint-rows.ts';
import { literal, serverFixture, type Server } from './server-diff-fixture.ts';

/**
 * The diff in Redshift, on the local Postgres standing in for it (the same wire protocol). Every
 * statement the diff sends is recorded and must be a statement Redshift documents, free of what
 * only Postgres has. Redshift's STRTOL has no Postgres twin: the stand-in gets one (hex only),
 * created here, as the only function of Redshift's the tests supply.
 */
const up = await needService('postgres');
const SCHEMA = `lm_rsdiff_${process.pid}`;
const STATEMENT_KINDS = /^\s*(SELECT|CREATE SCHEMA IF NOT EXISTS|CREATE TABLE|DROP TABLE|DELETE FROM|INSERT INTO|UPDATE|BEGIN|COMMIT|END|ROLLBACK|DECLARE lastmile_read CURSOR FOR|FETCH FORWARD|CLOSE lastmile_read|SET DATESTYLE TO)\b/;
/** What the Postgres dialect uses and Redshift lacks. */
const POSTGRES_ONLY = /ON CONFLICT|UNLOGGED|::bit|concat_ws|trim_scale|to_jsonb|to_json\(|\bE'|isfinite|extract\(|regexp_replace|\bMERGE\b/i;

const url = redshiftStandInUrl();
const sent: string[] = [];
let admin: pg.Client | undefined;

async function exec(sql: string): Promise<void> {
  admin ??= new pg.Client(SERVICES.postgres.url);
  if (!(admin as unknown as { _connected?: boolean })._connected) await admin.connect();
  await admin.query(sql);
}

// Every suite of this file runs between these two: the spy sees all it sends.
beforeAll(async () => {
  if (!up) return;
  await exec(REDSHIFT_STRTOL);
  recordStatements(sent, () => admin);
});
afterAll(async () => {
  if (!up) return;
  vi.restoreAllMocks();
  await exec(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; DROP SCHEMA IF EXISTS ${SCHEMA}_agree CASCADE`);
  await admin?.end();
  expect(sent.length).toBeGreaterThan(50);
  const refused = sent.filter((s) => !STATEMENT_KINDS.test(s) || POSTGRES_ONLY.test(s));
  expect(refused.slice(0, 3)).toEqual([]);
});

describe.skipIf(!up)('recipe v1 in Redshift SQL (local Postgres as the server)', () => {
  it('gives rows of every covered type the keys and fingerprints TypeScript gives them', async () => {
    const covered = COLUMNS.filter((c) => !['double', 'time', 'json', 'blob'].includes(c.type));
    // Redshift's dates and timestamps hold no infinity: rows with one are Postgres's alone.
    const generated = generateRows(3000, 20261203).filter((g) => !Object.values(g.text).some((t) => t === 'infinity' || t === '-infinity'));
    const record = covered.map((c) => `${quoteIdentifier(c.name)} text`).join(', ');
    const casts = covered.map((c) => `CAST(${quoteIdentifier(c.name)} AS ${c.postgres}) AS ${quoteIdentifier(c.name)}`).join(', ');
    await exec(`DROP SCHEMA IF EXISTS ${SCHEMA}_agree CASCADE; CREATE SCHEMA ${SCHEMA}_agree`);
    await admin!.query(`CREATE TABLE ${SCHEMA}_agree.t AS SELECT ${casts} FROM jsonb_to_recordset($1::jsonb) AS x(${record})`,
      [JSON.stringify(generated.map((g) => g.text))]);
    const source = new RedshiftSource('rs', { url, fetchSize: 1000 });
    const keys = [['id'], ['tag'], ['day'], ['local_ts'], ['instant'], ['id', 'n']].map((names) => names.map((n) => covered.find((c) => c.name === n)!) as Column[]);
    const inputs = covered.filter((c) => c.name !== 'id') as Column[];
    let result;
    try {
      result = await sqlAgreement(source, redshiftDialect, `${SCHEMA}_agree.t`, inputs, keys);
    } finally {
      await source.close();
    }
    const { count, disagreements } = result;
    expect(count).toBe(generated.length);
    expect(count).toBeGreaterThan(2500);
    expect(disagreements).toEqual([]);
  }, 120_000);

  it('refuses a column recipe v1 in Redshift SQL does not cover, naming it', () => {
    expect(() => redshiftFingerprint('s', [{ name: 'score', type: 'double' }])).toThrow(/"score" \(double\).*diff: workspace/);
  });
});

if (up) {
  const server: Server = {
    makeSource: () => new RedshiftSource('warehouse', { url, fetchSize: 1000 }),
    exec,
    create: 'CREATE TABLE items (sku VARCHAR(64), price DECIMAL(10,2) NOT NULL, qty INTEGER NOT NULL, seen TIMESTAMPTZ, note VARCHAR(64))',
    tuple: (r) => `(${[r.sku, r.price, r.qty, r.seen, r.note].map(literal).join(', ')})`,
  };
  for (const method of ['warehouse', 'engine'] as const) {
    const f = serverFixture(server, method, SCHEMA);
    diffConformance(`${method} diff, Redshift (local Postgres)`, f.fixture, f.teardown);
  }
}
