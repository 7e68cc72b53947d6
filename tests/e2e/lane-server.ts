/**
 * One e2e lane's panel (playwright.config.ts starts one per lane): the production build,
 * on its own fresh database with the demo carrier in it.
 *
 * Where PostgreSQL answers (always under CI, as for the integration tests), the database
 * is copied from the migrated template (tests/fixtures/test-database.ts) and seeded with
 * the demo carrier (`SEED_DEMO=1`): a start takes a second or two, and every page and
 * write is PostgreSQL's speed. Elsewhere (a laptop without a server) it is the embedded
 * database in a fresh data folder, as the README's first command runs it: PGlite
 * migrates and seeds on each start (half a minute or more) and answers more slowly.
 *
 * Usage: `node --import tsx tests/e2e/lane-server.ts <lane>`; PORT and the admin's login
 * come from the environment the config sets.
 */
import { rmSync } from 'node:fs';
import {
  chooseTestDatabase,
  createTestDatabase,
  describeTarget,
  prepareTemplate,
} from '../fixtures/test-database';

const lane = process.argv[2];
if (!lane || !/^\d+$/.test(lane)) throw new Error('usage: lane-server.ts <lane number>');

const target = await chooseTestDatabase();
if (target.kind === 'postgresql') {
  target.template = await prepareTemplate(target.adminUrl);
  // Named like every test database: the integration setup drops it once a day old.
  const database = await createTestDatabase(target, { migrated: true });
  process.env.DATABASE_URL = database.url;
  process.env.SEED_DEMO = '1';
} else {
  const dataDir = `.e2e-data-${lane}`;
  rmSync(dataDir, { recursive: true, force: true });
  process.env.DATABASE_URL = '';
  process.env.DATA_DIR = dataDir;
}
console.log(`e2e lane ${lane}: ${describeTarget(target)}`);
await import('../../server/index');
