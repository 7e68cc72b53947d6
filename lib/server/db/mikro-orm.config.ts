import { createOrmConfig } from './config';

/**
 * For the MikroORM CLI only (`npm run db:migration:create`). The panel itself builds its
 * configuration in lib/server/db/orm.ts.
 */
export default createOrmConfig(
  process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/reseller_panel_dev',
);
