import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS } from '@/lib/server/db/migrations';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openOrm } from '@/lib/server/db/orm';
import { Account, Group, User } from '@/lib/server/entities';
import { createTestDatabase, type TTestDatabase } from '../fixtures/test-database';
import { startPanelServer, type TPanelServer } from '../fixtures/panel-server';
import { signInOverHttp } from '../fixtures/http-login';

const MIGRATION_NAMES = MIGRATIONS.map((migration) => migration.name);

const ADMIN = { ADMIN_EMAIL: 'first@carrier.test', ADMIN_PASSWORD: 'first-admin-password' };

let db: TTestDatabase;
let orm: MikroORM | undefined;
const servers: TPanelServer[] = [];

beforeAll(async () => {
  db = await createTestDatabase(inject('testDatabase'));
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await orm?.close(true);
  await db?.drop();
});

describe('start on a real, empty database', () => {
  it('two processes starting together migrate and seed once', async () => {
    const env = { DATABASE_URL: db.url, ...ADMIN };
    servers.push(...(await Promise.all([startPanelServer(env), startPanelServer(env)])));

    orm = await openOrm(db.url);
    const em = orm.em.fork();
    const migrations = await em
      .getConnection()
      .execute<{ name: string }[]>('select name from mikro_orm_migrations order by id');
    expect(migrations.map((row) => row.name)).toEqual(MIGRATION_NAMES);
    // Exactly one of the two printed that it applied the migration.
    const applied = servers.filter((server) => server.output().includes('applied migrations'));
    expect(applied).toHaveLength(1);
  });

  it('creates only the first carrier and its admin: no demo data, nothing printed', async () => {
    const em = orm!.em.fork();
    const accounts = await em.find(Account, {});
    expect(accounts.map((account) => [account.kind, account.name])).toEqual([
      ['carrier', 'Carrier'],
    ]);
    const users = await em.find(User, {}, { populate: ['group'] });
    expect(users.map((user) => user.email)).toEqual([ADMIN.ADMIN_EMAIL]);
    expect(await em.count(Group, {})).toBe(1);
    for (const server of servers) {
      expect(server.output()).not.toContain(ADMIN.ADMIN_PASSWORD);
      expect(server.output()).not.toContain('demo carrier');
    }
  });

  it('stores the password as an argon2id hash that signs in', async () => {
    const row = await orm!.em
      .fork()
      .getConnection()
      .execute<{ password_hash: string }[]>('select password_hash from app_user');
    expect(row[0]!.password_hash).toMatch(/^\$argon2id\$/);
    const login = await signInOverHttp(servers[0]!.url, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
    expect(login.cookie).not.toBeNull();
  });

  it('restarting never seeds twice and keeps the data', async () => {
    const before = await orm!.em.fork().findOneOrFail(Account, { kind: 'carrier' });
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    const restarted = await startPanelServer({
      DATABASE_URL: db.url,
      ADMIN_EMAIL: 'someone-else@carrier.test',
      ADMIN_PASSWORD: 'another-password-1',
    });
    servers.push(restarted);
    const em = orm!.em.fork();
    expect(await em.find(Account, {})).toEqual([expect.objectContaining({ id: before.id })]);
    expect((await em.find(User, {})).map((user) => user.email)).toEqual([ADMIN.ADMIN_EMAIL]);
    expect(restarted.output()).not.toContain('applied migrations');
  });

  it('keeps the account tree honest in the schema itself', async () => {
    const connection = orm!.em.fork().getConnection();
    const carrier = await orm!.em.fork().findOneOrFail(Account, { kind: 'carrier' });
    // A reseller without a parent, and a second carrier with a parent, are refused.
    await expect(
      connection.execute(
        `insert into account (id, kind, name, path, depth, currency, created_at, updated_at)
         values ('00000000-0000-4000-8000-000000000001', 'reseller', 'Orphan',
                 '00000000-0000-4000-8000-000000000001/', 0, 'EUR', now(), now())`,
      ),
    ).rejects.toThrow(/account_tree_shape_check/);
    await expect(
      connection.execute(
        `insert into account (id, kind, name, parent_id, path, depth, currency, created_at, updated_at)
         values ('00000000-0000-4000-8000-000000000002', 'carrier', 'Nested', ?,
                 ?, 1, 'EUR', now(), now())`,
        [carrier.id, `${carrier.path}00000000-0000-4000-8000-000000000002/`],
      ),
    ).rejects.toThrow(/account_tree_shape_check/);
    // The carrier cannot be deleted while its users and groups exist.
    await expect(
      connection.execute('delete from account where id = ?', [carrier.id]),
    ).rejects.toThrow(/foreign key/);
    expect(await orm!.em.fork().count(Account, {})).toBe(1);
  });

  it('answers a subtree query with the prefix index', async () => {
    const connection = orm!.em.fork().getConnection();
    await connection.execute('set enable_seqscan = off');
    const plan = await connection.execute<{ 'QUERY PLAN': string }[]>(
      `explain select id from account where path like 'abc/%'`,
    );
    await connection.execute('reset enable_seqscan');
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('account_path_prefix_index');
  });
});
