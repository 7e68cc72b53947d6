import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from '@/lib/server/entities';
import { MIGRATIONS } from './migrations';
import { PanelPostgreSqlDriver } from './light-transaction';

/**
 * Settings of every panel session, sent when it connects (PostgreSQL's `options`).
 *
 * No just-in-time compilation: PostgreSQL compiles a statement whose estimated cost
 * passes `jit_above_cost`, and the panel's estimates pass it by mistake — a chain's
 * recursive union is guessed at thousands of rows where it has two or three, so the
 * price lookup, a 3 ms statement, spent 40–80 ms compiling for one number in five
 * (docs/bench.md, twentieth session). The set-based writers (a 100k-row import, a
 * derive, a rating batch) measured no slower without it. PGlite has no compiler and
 * ignores the option.
 */
export const PANEL_SESSION_OPTIONS = '-c jit=off';

/**
 * The one MikroORM configuration, for PostgreSQL and for the embedded PGlite (which is
 * served over the PostgreSQL wire protocol, so the driver is the same).
 */
export function createOrmConfig(clientUrl: string, overrides: Partial<Options> = {}): Options {
  return defineConfig({
    clientUrl,
    // PostgreSQL's driver with a lighter top-level transaction (light-transaction.ts).
    driver: PanelPostgreSqlDriver,
    entities: ENTITIES,
    extensions: [Migrator],
    // The schema only ever changes through committed migrations (STACK.md pitfall 2).
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: 'lib/server/db/migrations',
      pathTs: 'lib/server/db/migrations',
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      // open-database.ts reports what it applied in one line of its own.
      silent: true,
    },
    discovery: { warnWhenNoEntities: true },
    // Written and read only by set-based SQL (lib/server/services/rates/revisions.ts);
    // `rate_history` has no key to give an entity, on purpose (Migration20261205100000).
    // `card_parent` is read and written in SQL only; `card.more_parents` mirrors it; and
    // the parents a card followed before (`card_former_parent`, Migration20261222200000).
    // `assurance_loss` too (profit assurance alerts, rate-sets.ts).
    // Usage likewise (lib/server/services/usage, Migration20261207100000; its re-rate keys,
    // Migration20261215100000), and brands
    // (lib/server/services/brands, Migration20261209100000) and their logos
    // (Migration20261213100000), and statements (lib/server/services/statements,
    // Migration20261211100000), and which card a customer held when (a trigger's,
    // Migration20261217100000), and transfers' keys (Migration20261218300000), and when an
    // account was suspended (a trigger's, Migration20261231100000).
    schemaGenerator: {
      skipTables: [
        'rate_revision',
        'rate_history',
        'card_parent',
        'card_former_parent',
        'assurance_loss',
        'usage_record',
        'usage_charge',
        'usage_rerate_request',
        'brand',
        'brand_hostname',
        'brand_logo',
        'statement',
        'customer_card_span',
        'transfer_request',
        'account_suspension',
      ],
    },
    // Never created on a start or a migration: a mistyped name is refused (orm.ts).
    ensureDatabase: false,
    forceUtcTimezone: true,
    pool: { min: 0, max: 10 },
    driverOptions: { connection: { options: PANEL_SESSION_OPTIONS } },
    debug: false,
    allowGlobalContext: false,
    ...overrides,
  });
}
