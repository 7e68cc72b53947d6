import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { migrate, openOrm } from '@/lib/server/db/orm';
import { createTestDatabase, type TTestDatabase } from '../fixtures/test-database';

let db: TTestDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createTestDatabase(inject('testDatabase'));
  orm = await openOrm(db.url);
  await migrate(orm);
});

afterAll(async () => {
  await orm?.close(true);
  await db?.drop();
});

describe('entities and committed migrations', () => {
  it('agree: a migration generated now would change nothing', async () => {
    // Otherwise `npm run db:migration:create` would silently drop hand-written parts
    // (the tree's foreign key, checks, the prefix index) or the entities would lie.
    const sql = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
    expect(sql.trim()).toBe('');
  });
});
