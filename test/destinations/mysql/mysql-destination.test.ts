import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlDestinationType } from '../../../src/destinations/mysql/mysql-type.ts';
import { sqlDestinationConformance, testDestinations } from '../../conformance/sql-destination-conformance.ts';
import { needService, SERVICES } from '../../helpers/services.ts';
import { change, outcomes, recordingContext } from '../destination-test-kit.ts';

const up = await needService('mariadb');
const DB = 'lm_mydst';
const url = SERVICES.mariadb.url;

describe.skipIf(!up)('mysql destination (MariaDB)', () => {
  let admin: mysql.Connection;
  const { open, closeAll } = testDestinations(mysqlDestinationType, url);
  const rows = async (sql: string) => (await admin.query(sql))[0] as Record<string, unknown>[];
  const table = (name: string) => ({ schema: DB, table: name });

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: url, dateStrings: true, multipleStatements: true });
    await admin.query(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
  });
  afterAll(async () => {
    await closeAll();
    await admin?.query(`DROP DATABASE IF EXISTS ${DB}`);
    await admin?.end();
  });

  sqlDestinationConformance({
    name: 'mysql (MariaDB)',
    open,
    url,
    user: 'root',
    schema: DB,
    query: rows,
    refusedLoginUrl: (password) => `mysql://root:${password}@127.0.0.1:3306/test`,
    codes: {
      tooLong: 'ER_DATA_TOO_LONG', notNull: 'ER_BAD_NULL_ERROR', wrongType: 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD',
      outOfRange: 'ER_WARN_DATA_OUT_OF_RANGE', checkFailed: 'ER_CONSTRAINT_FAILED',
      refusedLogin: 'ER_ACCESS_DENIED_ERROR', unknownDatabase: 'ER_BAD_DB_ERROR', killed: 'ER_CONNECTION_KILLED', noSuchTable: 'ER_NO_SUCH_TABLE',
    },
    // A sequence's NEXTVAL is not rolled back with the transaction: the retry is let through.
    killWriterOnce: (name, id) => [
      `CREATE SEQUENCE ${name}_kills`,
      `CREATE TRIGGER ${name}_kill BEFORE INSERT ON ${name} FOR EACH ROW BEGIN
        IF NEW.id = ${id} THEN IF NEXTVAL(${name}_kills) = 1 THEN KILL CONNECTION_ID(); END IF; END IF; END`,
    ],
    missingTableOn: (name, id) => [
      `CREATE TRIGGER ${name}_log BEFORE INSERT ON ${name} FOR EACH ROW BEGIN
        IF NEW.id = ${id} THEN INSERT INTO ${DB}.no_such_log VALUES (NEW.id); END IF; END`,
    ],
    describedTable: (name) => [
      `CREATE TABLE ${name} (id BIGINT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(10) NOT NULL, label TEXT NOT NULL DEFAULT 'x',
        qty INT, amount DECIMAL(10,2), ok BOOLEAN, tier ENUM('free', 'Pro', 'it''s'), at DATETIME, doc JSON, day DATE, ratio DOUBLE)`,
    ],
    async expectCreatedTable(name) {
      expect(await rows(`SELECT column_name AS name, column_type AS type, column_key AS k FROM information_schema.columns WHERE table_schema = '${DB}' AND table_name = '${name}' ORDER BY ordinal_position`)).toEqual([
        { name: 'sku', type: 'varchar(255)', k: 'PRI' },
        { name: 'price', type: 'decimal(12,2)', k: '' },
        { name: 'qty', type: 'bigint(20)', k: '' },
        { name: 'active', type: 'tinyint(1)', k: '' },
        { name: 'seen_on', type: 'date', k: '' },
        { name: 'seen_at', type: 'datetime(6)', k: '' },
        { name: 'attrs', type: 'longtext', k: '' },
        { name: 'note', type: 'varchar(20)', k: '' },
      ]);
      // DATETIME has no zone: the session writes UTC.
      expect(await rows(`SELECT sku, seen_at, attrs FROM ${DB}.${name} ORDER BY sku`)).toEqual([
        { sku: 'A', seen_at: '2024-03-01 10:00:00.000000', attrs: { a: 1 } },
        { sku: 'B', seen_at: '2024-03-02 08:00:00.000000', attrs: null },
      ]);
    },
  });

  it('upserts with ON DUPLICATE KEY UPDATE: new rows inserted, existing ones updated', async () => {
    await admin.query(`CREATE TABLE ${DB}.prices (sku VARCHAR(20) PRIMARY KEY, price DECIMAL(10,2), currency CHAR(3), meta JSON, seen_at DATETIME(3))`);
    const dest = open('upsert', ['sku'], ['sku', 'price', 'currency', 'meta', 'seen_at'], { table: `${DB}.prices` });
    const ctx = recordingContext();
    expect(outcomes(await dest.write([
      change('upsert', 'A', ['sku'], { sku: 'A', price: '10.50', currency: 'EUR', meta: { tags: ['x', "it's"] }, seen_at: '2024-03-01T12:00:00.250Z' }),
      change('upsert', 'B', ['sku'], { sku: 'B', price: 3, currency: 'USD', meta: null, seen_at: '2024-03-01T14:00:00+02:00' }),
    ], ctx))).toEqual({ A: 'delivered', B: 'delivered' });
    expect(ctx.apiCalls).toBe(1);
    await dest.write([
      change('upsert', 'B', ['sku'], { sku: 'B', price: 4.25, currency: 'USD', meta: { n: 1 }, seen_at: null }),
      change('upsert', 'C', ['sku'], { sku: 'C', price: '0.01', currency: 'GBP', meta: [], seen_at: '2024-03-02 08:30:00' }),
    ], recordingContext());
    expect(await rows(`SELECT sku, price, currency, meta, seen_at FROM ${DB}.prices ORDER BY sku`)).toEqual([
      { sku: 'A', price: '10.50', currency: 'EUR', meta: { tags: ['x', "it's"] }, seen_at: '2024-03-01 12:00:00.250' },
      { sku: 'B', price: '4.25', currency: 'USD', meta: { n: 1 }, seen_at: null },
      { sku: 'C', price: '0.01', currency: 'GBP', meta: [], seen_at: '2024-03-02 08:30:00.000' },
    ]);
  });

  it('updates matched rows and rejects the ones that match nothing, even when nothing changes', async () => {
    await admin.query(`CREATE TABLE ${DB}.people (email VARCHAR(100) PRIMARY KEY, name TEXT, age INT)`);
    await admin.query(`INSERT INTO ${DB}.people VALUES ('ada@x.io', 'Ada', 36), ('bob@x.io', 'Bob', 40)`);
    const dest = open('update', ['email'], ['email', 'name', 'age'], { table: table('people') });
    const ctx = recordingContext();
    const results = await dest.write([
      change('update', 1, ['email'], { email: 'ada@x.io', name: 'Ada L.', age: 37 }),
      change('update', 2, ['email'], { email: 'bob@x.io', name: 'Bob', age: 40 }), // same values: still found
      change('update', 3, ['email'], { email: 'nobody@x.io', name: 'Nobody', age: 1 }),
    ], ctx);
    expect(outcomes(results)).toEqual({ 1: 'delivered', 2: 'delivered', 3: 'rejected:missing_identifier' });
    expect(ctx.apiCalls).toBe(1);
    expect(await rows(`SELECT email, name, age FROM ${DB}.people ORDER BY email`)).toEqual([
      { email: 'ada@x.io', name: 'Ada L.', age: 37 }, { email: 'bob@x.io', name: 'Bob', age: 40 },
    ]);
  });

  it('inserts, and deletes by match (mirror) with a composite key', async () => {
    await admin.query(`CREATE TABLE ${DB}.mirror (id INT, region VARCHAR(5), v TEXT, PRIMARY KEY (id, region))`);
    const inserter = open('insert', ['id', 'region'], ['id', 'region', 'v'], { table: table('mirror') });
    const many = Array.from({ length: 600 }, (_, i) => change('insert', i, ['id', 'region'], { id: i, region: i % 2 ? 'eu' : 'us', v: `v${i}` }));
    expect(Object.values(outcomes(await inserter.write(many, recordingContext())))).toEqual(Array(600).fill('delivered'));
    const mirror = open('mirror', ['id', 'region'], ['id', 'region', 'v'], { table: table('mirror') });
    const results = await mirror.write([
      change('delete', 'k1', ['id', 'region'], { id: 1, region: 'eu' }),
      change('delete', 'k2', ['id', 'region'], { id: 2, region: 'eu' }), // not there (2 is 'us'): done anyway
      change('upsert', 'k3', ['id', 'region'], { id: 3, region: 'eu', v: 'changed' }),
    ], recordingContext());
    expect(outcomes(results)).toEqual({ k1: 'delivered', k2: 'delivered', k3: 'delivered' });
    expect(await rows(`SELECT count(*) AS n FROM ${DB}.mirror`)).toEqual([{ n: 599 }]);
    expect(await rows(`SELECT id, region, v FROM ${DB}.mirror WHERE id <= 3 ORDER BY id`)).toEqual([
      { id: 0, region: 'us', v: 'v0' }, { id: 2, region: 'us', v: 'v2' }, { id: 3, region: 'eu', v: 'changed' },
    ]);
  });

  it('quotes every identifier: a table and columns named with backticks, quotes, spaces, a semicolon and a ?', async () => {
    const odd = { schema: DB, table: 'odd `table`; DROP TABLE x' };
    const id = 'the "id"?';
    const name = "full `name`; -- it's";
    await admin.query(`CREATE TABLE ${DB}.\`odd \`\`table\`\`; DROP TABLE x\` (\`the "id"?\` INT PRIMARY KEY, \`full \`\`name\`\`; -- it's\` TEXT)`);
    const dest = open('mirror', [id], [id, name], { table: odd });
    await dest.write([change('upsert', 1, [id], { [id]: 1, [name]: 'one?' }), change('upsert', 2, [id], { [id]: 2, [name]: "two 'quoted' \\ back" })], recordingContext());
    const updater = open('update', [id], [id, name], { table: odd });
    expect(outcomes(await updater.write([change('update', 1, [id], { [id]: 1, [name]: 'uno' })], recordingContext()))).toEqual({ 1: 'delivered' });
    await dest.write([change('delete', 3, [id], { [id]: 3 })], recordingContext());
    expect(await rows(`SELECT * FROM ${DB}.\`odd \`\`table\`\`; DROP TABLE x\` ORDER BY 1`)).toEqual([
      { [id]: 1, [name]: 'uno' }, { [id]: 2, [name]: "two 'quoted' \\ back" },
    ]);
    expect((await dest.describe!(new AbortController().signal)).map((f) => f.name)).toEqual([id, name]);
  });
});
