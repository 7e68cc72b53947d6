import { mkdir, readFile, writeFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface TEmbeddedDatabase {
  /** A postgresql:// URL on 127.0.0.1 that the ordinary driver connects to. */
  url: string;
  directory: string;
  stop(): Promise<void>;
}

/**
 * The embedded default (STACK.md pitfall 5): PGlite persisted under `<dataDir>/pglite`,
 * served over the PostgreSQL wire protocol on a free loopback port, so the panel uses
 * the same driver, entities and migrations as on a real server. PGlite is a single
 * backend inside this process: a lock file keeps a second process off the same folder.
 * `dataDir: null` keeps everything in memory (tests).
 */
export async function startEmbeddedDatabase(dataDir: string | null): Promise<TEmbeddedDatabase> {
  let directory = 'memory://';
  let releaseLock = async () => {};
  if (dataDir) {
    directory = path.resolve(dataDir, 'pglite');
    await mkdir(directory, { recursive: true });
    releaseLock = await takeLockFile(path.resolve(dataDir, 'panel.pid'));
  }
  try {
    const db = await PGlite.create(dataDir ? directory : undefined);
    const port = await findFreePort();
    // The socket server's default of one connection breaks MikroORM's pool.
    const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 20 });
    await server.start();
    return {
      url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
      directory,
      async stop() {
        await server.stop();
        await db.close();
        await releaseLock();
      },
    };
  } catch (error) {
    await releaseLock();
    throw error;
  }
}

/** A free TCP port on loopback, found by letting the kernel pick one. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function takeLockFile(file: string): Promise<() => Promise<void>> {
  const existing = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(existing, 10);
  if (pid && pid !== process.pid && isAlive(pid)) {
    throw new Error(
      `The embedded database in ${path.dirname(file)} is in use by process ${pid}; stop it first or set DATA_DIR.`,
    );
  }
  await writeFile(file, String(process.pid));
  return async () => {
    await rm(file, { force: true });
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
