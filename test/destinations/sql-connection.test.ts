import { describe, expect, it } from 'vitest';
import { mysqlConnection, mysqlSettings } from '../../src/destinations/mysql/mysql-type.ts';
import { postgresConnection, postgresSettings } from '../../src/destinations/postgres/postgres-type.ts';

const postgres = (settings: Record<string, unknown>) => postgresSettings(postgresConnection.parse(settings));
const mysql = (settings: Record<string, unknown>) => mysqlSettings(mysqlConnection.parse(settings));

describe('SQL destination connection settings', () => {
  it('take host, port, user, password and database from the URL, decoded', () => {
    expect(postgres({ url: 'postgresql://ada%40corp:p%2Fw@db.internal:6543/sales%20db' }))
      .toEqual({ host: 'db.internal', port: 6543, user: 'ada@corp', password: 'p/w', database: 'sales db' });
    expect(mysql({ url: 'mariadb://root@[::1]/shop' })).toEqual({ host: '::1', port: 3306, user: 'root', database: 'shop' });
  });

  it('let the settings written beside the URL win over its parts, an empty password too', () => {
    const settings = { url: 'mysql://app:old@db:3307/shop', host: 'replica', port: '3310', password: '', database: 'shop_eu' };
    expect(mysql(settings)).toEqual({ host: 'replica', port: 3310, user: 'app', password: '', database: 'shop_eu' });
    expect(postgres({ ...settings, url: 'postgres://app:old@db:5433/shop' }))
      .toEqual({ host: 'replica', port: 3310, user: 'app', password: '', database: 'shop_eu' });
  });

  it('default to the local server on the dialect\'s port', () => {
    expect(postgres({})).toEqual({ host: '127.0.0.1', port: 5432 });
    expect(mysql({})).toEqual({ host: '127.0.0.1', port: 3306 });
  });

  it('Postgres reads TLS from ?sslmode, and `ssl` overrides it either way', () => {
    expect(postgres({ url: 'postgres://db/app?sslmode=require' }).ssl).toEqual({ rejectUnauthorized: false });
    expect(postgres({ url: 'postgres://db/app?sslmode=verify-full' }).ssl).toEqual({ rejectUnauthorized: true });
    expect(postgres({ url: 'postgres://db/app?sslmode=disable' }).ssl).toBeUndefined();
    expect(postgres({ url: 'postgres://db/app?sslmode=require', ssl: false }).ssl).toBe(false);
    expect(postgres({ ssl: true }).ssl).toEqual({ rejectUnauthorized: true });
  });

  it('MySQL turns TLS on with `ssl: true` only', () => {
    expect(mysql({ ssl: true }).ssl).toEqual({ rejectUnauthorized: true });
    expect(mysql({ ssl: false }).ssl).toBeUndefined();
  });
});
