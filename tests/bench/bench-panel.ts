import { readFileSync } from 'node:fs';
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
    // The benches' clients share a few people's tokens (5,000 sockets over a carrier
    // admin and its resellers): the per-person limit is not what they measure.
    LIVE_SOCKETS_PER_PERSON: '1000000',
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

/** A process's CPU time so far (user + system), from `/proc/<pid>/stat`; null off Linux. */
export function cpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** `work`'s result and the CPU process `pid` spent meanwhile (null off Linux). */
export async function cpuDuring<T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ value: T; cpuMs: number | null }> {
  const before = cpuMs(pid);
  const value = await work();
  const after = cpuMs(pid);
  return { value, cpuMs: before === null || after === null ? null : after - before };
}
