import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { PostgresSource } from '../../src/sources/postgres/postgres-source.ts';
import { MysqlSource } from '../../src/sources/mysql/mysql-source.ts';
import { needService, SERVICES } from '../helpers/services.ts';
import { diffConformance } from '../conformance/diff-conformance.ts';
import { literal, serverFixture, type Server } from './server-diff-fixture.ts';

if (await needService('postgres')) {
  const schema = `lm_wdiff_${process.pid}`;
  const server: Server = {
    makeSource: () => new PostgresSource('warehouse', { url: SERVICES.postgres.url }),
    async exec(sql) {
      const client = new pg.Client(SERVICES.postgres.url);
      await client.connect();
      try { await client.query(sql); } finally { await client.end(); }
    },
    create: 'CREATE TABLE items (sku text, price numeric(10,2) NOT NULL, qty integer NOT NULL, seen timestamptz, note text)',
    tuple: (r) => `(${[r.sku, r.price, r.qty, r.seen, r.note].map(literal).join(', ')})`,
  };
  for (const method of ['warehouse', 'engine'] as const) {
    const f = serverFixture(server, method, schema);
    diffConformance(`${method} diff, Postgres`, f.fixture, async () => {
      await f.teardown();
      await server.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    });
  }

  describe('warehouse diff scratch tables', () => {
    const sweepSchema = `${schema}_sweep`;
    const f = serverFixture(server, 'warehouse', sweepSchema);
    afterAll(async () => {
      await f.teardown();
      await server.exec(`DROP SCHEMA IF EXISTS ${sweepSchema} CASCADE`);
    });

    it('drops its own on close, and those a killed diff left over a day ago', async () => {
      const fixture = await f.fixture();
      await fixture.setModel([]);
      const old = `lm_scratch_${Math.floor(Date.now() / 1000) - 2 * 86400}_dead0000_cur`;
      const recent = `lm_scratch_${Math.floor(Date.now() / 1000) - 60}_live0000_cur`;
      await server.exec(`CREATE TABLE ${sweepSchema}.${old} (x int); CREATE TABLE ${sweepSchema}.${recent} (x int)`);
      const diff = await fixture.open('sweep');
      await diff.close();
      const client = new pg.Client(SERVICES.postgres.url);
      await client.connect();
      const { rows } = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE 'lm_scratch%'`, [sweepSchema]);
      await client.end();
      expect(rows.map((r) => r.table_name)).toEqual([recent]);
    });
  });
}

if (await needService('mariadb')) {
  const schema = `lm_wdiff_${process.pid}`;
  const server: Server = {
    makeSource: () => new MysqlSource('warehouse', { url: SERVICES.mariadb.url }),
    async exec(sql) {
      const connection = await mysql.createConnection({ uri: SERVICES.mariadb.url });
      try {
        await connection.query(`SET time_zone = '+00:00'`);
        await connection.query(sql);
      } finally {
        await connection.end();
      }
    },
    // NOT NULL columns: the diff's scratch tables must not inherit them for rows that left the model.
    create: 'CREATE TABLE items (sku VARCHAR(64), price DECIMAL(10,2) NOT NULL, qty INT NOT NULL, seen TIMESTAMP(6) NULL, note VARCHAR(64))',
    // MySQL takes a UTC instant without its T and Z (the session runs in UTC).
    tuple: (r) => `(${[r.sku, r.price, r.qty, r.seen.replace('T', ' ').replace('Z', ''), r.note].map(literal).join(', ')})`,
  };
  for (const method of ['warehouse', 'engine'] as const) {
    const f = serverFixture(server, method, schema);
    diffConformance(`${method} diff, MariaDB`, f.fixture, async () => {
      await f.teardown();
      await server.exec(`DROP DATABASE IF EXISTS ${schema}`);
    });
  }
}
