import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase, type TDatabase } from '@/lib/server/db/open-database';
import { parseEnv } from '@/lib/server/env';
import { Account, Card, User } from '@/lib/server/entities';
import { createTestDatabase, type TTestDatabase } from '../fixtures/test-database';
import { TEST_AUTH_SECRET } from '../fixtures/panel-server';

/**
 * `SEED_DEMO=1` (e2e lanes, demo installs on a real server): an empty PostgreSQL database
 * gets the embedded start's demo carrier, with the admin the environment names; a second
 * start finds the carrier and touches nothing. Without it, only the first carrier
 * (database-start.test.ts).
 */
const ADMIN = { ADMIN_EMAIL: 'demo@seed.test', ADMIN_PASSWORD: 'seed-demo-password' };

let db: TTestDatabase;
let database: TDatabase | undefined;

beforeAll(async () => {
  db = await createTestDatabase(inject('testDatabase'), { migrated: true });
});
afterAll(async () => {
  await database?.close();
  await db?.drop();
});

const open = () =>
  openDatabase(
    parseEnv({ DATABASE_URL: db.url, AUTH_SECRET: TEST_AUTH_SECRET, ...ADMIN, SEED_DEMO: '1' }),
  );

describe('SEED_DEMO=1 on an empty database', () => {
  it('seeds the demo carrier with its tree and cards, the admin from the environment', async () => {
    database = await open();
    expect(database.seed).toMatchObject({ seeded: true, demo: true, adminPassword: undefined });
    const em = database.orm.em.fork();
    const accounts = await em.find(Account, {}, { orderBy: { path: 'asc' } });
    expect(accounts[0]).toMatchObject({ kind: 'carrier', name: 'Demo Carrier' });
    expect(accounts.map((account) => account.name)).toEqual(
      expect.arrayContaining(['Acme Voice', 'Blue Telecom']),
    );
    expect(await em.count(Card, {})).toBeGreaterThan(1);
    expect((await em.find(User, {})).map((user) => user.email)).toEqual([ADMIN.ADMIN_EMAIL]);
  });

  it('seeds nothing on a second start', async () => {
    const before = await database!.orm.em.fork().count(Account, {});
    await database!.close();
    database = await open();
    expect(database.seed.seeded).toBe(false);
    expect(await database.orm.em.fork().count(Account, {})).toBe(before);
  });
});
