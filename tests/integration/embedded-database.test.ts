import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '@/lib/server/db/migrations';
import { parseEnv } from '@/lib/server/env';
import { openDatabase } from '@/lib/server/db/open-database';
import { startEmbeddedDatabase } from '@/lib/server/db/embedded';
import { analyzeEmbeddedTables } from '@/lib/server/db/embedded-analyze';
import { loadOrCreateSecret } from '@/lib/server/data-dir';
import { Account, Card, CardAssignment, Group, User } from '@/lib/server/entities';
import { DEMO_ADMIN_EMAIL } from '@/lib/server/db/seed';

const MIGRATION_NAMES = MIGRATIONS.map((migration) => migration.name);

/**
 * The embedded default (no DATABASE_URL): PGlite persisted under DATA_DIR, served to the
 * ordinary PostgreSQL driver, with the same migrations as PostgreSQL. This file always
 * runs on PGlite, whatever database the other integration tests use.
 */
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'rp-embedded-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/**
 * Migrating and seeding a fresh PGlite folder runs every migration in single-threaded
 * WASM (about 40 s on this 2-core machine under load, with issue 16–18's migrations):
 * a bound that catches a hang, not a speed goal.
 */
const MIGRATE_AND_SEED_MS = 240_000;

describe('embedded database (PGlite)', () => {
  let carrierId: string;

  it(
    'migrates and seeds a demo carrier on first start, returning a generated login',
    async () => {
      const database = await openDatabase(parseEnv({ DATA_DIR: dataDir }));
      try {
        expect(database.kind).toBe('embedded');
        expect(database.applied).toEqual(MIGRATION_NAMES);
        expect(database.seed).toMatchObject({
          seeded: true,
          demo: true,
          adminEmail: DEMO_ADMIN_EMAIL,
        });
        const password = database.seed.seeded ? database.seed.adminPassword : undefined;
        expect(password).toMatch(/^[\w-]{16}$/);

        const em = database.orm.em.fork();
        const accounts = await em.find(Account, {}, { orderBy: { depth: 'asc', name: 'asc' } });
        const carrier = accounts.find((account) => account.kind === 'carrier')!;
        carrierId = carrier.id;
        expect(accounts.filter((a) => a.kind === 'reseller').length).toBeGreaterThanOrEqual(3);
        expect(accounts.filter((a) => a.kind === 'customer').length).toBeGreaterThanOrEqual(4);
        // Every account hangs under the demo carrier, and a sub-reseller exists.
        expect(accounts.every((account) => account.path.startsWith(carrier.path))).toBe(true);
        expect(accounts.some((a) => a.kind === 'reseller' && a.depth === 2)).toBe(true);
        expect(await em.count(Group, { template: 'default-reseller' })).toBe(1);
        expect(await em.count(User, {})).toBe(1);
        // Rate cards to look at: an upstream card, the carrier's retail card following it,
        // held by the resellers and a direct customer, and each reseller's own card for its
        // customers (Acme East's from Acme's): every customer holds a whole chain to rate.
        const cards = await em.find(Card, {}, { orderBy: { name: 'asc' } });
        const byName = new Map(cards.map((card) => [card.name, card]));
        expect(cards.map((card) => [card.name, card.kind, card.rateCount])).toEqual([
          ['Acme East Retail', 'customer', 10],
          ['Acme Standard', 'customer', 10],
          ['Blue Retail', 'customer', 10],
          ['Carrier Retail', 'customer', 10],
          ['Upstream Wholesale', 'provider', 10],
        ]);
        const nameOf = new Map(cards.map((card) => [card.id, card.name]));
        const parentOf = (name: string) => nameOf.get(byName.get(name)!.parent?.id ?? '') ?? null;
        expect(
          ['Acme East Retail', 'Acme Standard', 'Blue Retail', 'Carrier Retail'].map(parentOf),
        ).toEqual(['Acme Standard', 'Carrier Retail', 'Carrier Retail', 'Upstream Wholesale']);
        // Each in the parent list the trace, rating and recomputes follow (issue 16).
        const listed = await em.execute<{ card: string; parent: string; position: number }[]>(
          `select c.name as card, p.name as parent, cp.position from card_parent cp
             join card c on c.id = cp.card_id join card p on p.id = cp.parent_id
            order by c.name`,
        );
        expect(listed.map((row) => [row.card, row.parent, row.position])).toEqual([
          ['Acme East Retail', 'Acme Standard', 0],
          ['Acme Standard', 'Carrier Retail', 0],
          ['Blue Retail', 'Carrier Retail', 0],
          ['Carrier Retail', 'Upstream Wholesale', 0],
        ]);
        expect(await em.count(CardAssignment, { card: byName.get('Carrier Retail')!.id })).toBe(3);
        const customers = accounts.filter((account) => account.kind === 'customer');
        expect(await em.count(CardAssignment, { account: customers.map((c) => c.id) })).toBe(
          customers.length,
        );
      } finally {
        await database.close();
      }
      expect((await stat(path.join(dataDir, 'pglite'))).isDirectory()).toBe(true);
    },
    MIGRATE_AND_SEED_MS,
  );

  it('has its tables analysed, with no autovacuum to do it', async () => {
    // PGlite runs no autovacuum: never analysed, its planner took the Overview's traffic
    // read as a nested loop (12.7 s at 15,000 calls, everything else waiting behind it).
    const database = await openDatabase(parseEnv({ DATA_DIR: dataDir }));
    try {
      const stats = () =>
        database.orm.em.fork().execute<{ analysed: boolean }[]>(
          `select last_analyze is not null as analysed from pg_stat_user_tables
              where relname = 'account'`,
        );
      expect(await stats()).toEqual([{ analysed: false }]);
      const stop = analyzeEmbeddedTables(database.orm);
      await stop();
      expect(await stats()).toEqual([{ analysed: true }]);
    } finally {
      await database.close();
    }
  });

  it('keeps the data across a restart and never seeds twice', async () => {
    const database = await openDatabase(parseEnv({ DATA_DIR: dataDir }));
    try {
      expect(database.applied).toEqual([]);
      expect(database.seed).toEqual({ seeded: false });
      const carriers = await database.orm.em.fork().find(Account, { kind: 'carrier' });
      expect(carriers.map((carrier) => carrier.id)).toEqual([carrierId]);
    } finally {
      await database.close();
    }
  });

  it(
    'lets ADMIN_EMAIL and ADMIN_PASSWORD fix the demo login',
    async () => {
      const other = await mkdtemp(path.join(tmpdir(), 'rp-embedded-admin-'));
      const database = await openDatabase(
        parseEnv({
          DATA_DIR: other,
          ADMIN_EMAIL: 'Me@Example.test',
          ADMIN_PASSWORD: 'my-own-password',
        }),
      );
      try {
        expect(database.seed).toEqual({ seeded: true, demo: true, adminEmail: 'me@example.test' });
        const admin = await database.orm.em
          .fork()
          .findOneOrFail(User, { email: 'me@example.test' });
        expect(admin.status).toBe('active');
      } finally {
        await database.close();
        await rm(other, { recursive: true, force: true });
      }
    },
    MIGRATE_AND_SEED_MS,
  );

  it('refuses a second process on the same data folder', async () => {
    const first = await startEmbeddedDatabase(dataDir);
    try {
      await writePidOfAnotherLiveProcess(dataDir);
      await expect(startEmbeddedDatabase(dataDir)).rejects.toThrow(/is in use by process/);
    } finally {
      await first.stop();
    }
  });

  it('generates the session secret once and keeps it', async () => {
    const secret = await loadOrCreateSecret(dataDir);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(await loadOrCreateSecret(dataDir)).toBe(secret);
    expect((await readFile(path.join(dataDir, 'auth-secret'), 'utf8')).trim()).toBe(secret);
    expect((await stat(path.join(dataDir, 'auth-secret'))).mode & 0o077).toBe(0);
  });
});

/** The lock names a live process that is not this one: the parent (vitest's runner). */
async function writePidOfAnotherLiveProcess(dir: string) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path.join(dir, 'panel.pid'), String(process.ppid));
}
