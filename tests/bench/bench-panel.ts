import { createTestDatabase, type TTestDatabaseTarget } from '../fixtures/test-database';
import { startPanelServer } from '../fixtures/panel-server';

/**
 * What every bench starts with: a fresh database on `target` and the production panel on
 * it, seeded with one carrier admin (`env` adds to its environment, e.g. `WORKERS`);
 * `tokenFor` signs someone in for an API token; `stop` ends the server and drops the
 * database.
 */
export async function startBenchPanel(
  target: TTestDatabaseTarget,
  admin: { email: string; password: string },
  env: Record<string, string> = {},
) {
  const db = await createTestDatabase(target);
  const server = await startPanelServer({
    DATABASE_URL: db.url,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    ...env,
  });
  const tokenFor = async (email: string, password: string): Promise<string> => {
    const response = await fetch(`${server.url}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (!response.ok) throw new Error(`token for ${email}: ${response.status}`);
    return ((await response.json()) as { token: string }).token;
  };
  return {
    db,
    server,
    tokenFor,
    async stop() {
      await server.stop();
      await db.drop();
    },
  };
}
