import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS } from '@/lib/server/db/migrations';
import pg from 'pg';
import { io } from 'socket.io-client';
import { createTestDatabase, type TTestDatabase } from '../fixtures/test-database';
import { runPanelUntilExit, runScript, startPanelServer } from '../fixtures/panel-server';
import { signInOverHttp } from '../fixtures/http-login';
import { redisAvailable, TEST_REDIS_URL } from '../fixtures/redis';

const MIGRATION_NAMES = MIGRATIONS.map((migration) => migration.name);

const ADMIN = { ADMIN_EMAIL: 'life@carrier.test', ADMIN_PASSWORD: 'lifecycle-password' };

let db: TTestDatabase;

beforeAll(async () => {
  db = await createTestDatabase(inject('testDatabase'));
});

afterAll(async () => {
  await db?.drop();
});

describe('a bad environment stops the start with one line naming the variable', () => {
  // Independent processes that wait on nothing but their own start: run at once.
  it.concurrent.for([
    [{ PORT: 'seventy' }, 'PORT'],
    [{ DATABASE_URL: 'postgresql://127.0.0.1/x', AUTH_SECRET: '', ...ADMIN }, 'AUTH_SECRET'],
    [{ REDIS_URL: 'http://cache' }, 'REDIS_URL'],
  ] as const)('%o names %s', async ([env, variable], { expect }) => {
    const { code, output } = await runPanelUntilExit({
      ...env,
      DATA_DIR: '/nonexistent/never-used',
    });
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^reseller-panel: Invalid configuration: ${variable} `));
    expect(output).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM closes live sockets and the database, then exits 0', async () => {
    const server = await startPanelServer({ DATABASE_URL: db.url, ...ADMIN });
    const login = await signInOverHttp(server.url, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
    const socket = io(server.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { cookie: login.cookie! },
    });
    await new Promise((resolve) => socket.once('hello', resolve));
    const disconnected = new Promise<string>((resolve) => socket.once('disconnect', resolve));

    const code = await server.stop();
    expect(await disconnected).toMatch(/server namespace disconnect|transport close/);
    expect(code).toBe(0);
    expect(server.output()).toContain('SIGTERM: shutting down');
    expect(server.output()).toContain('"msg":"stopped"');
    socket.close();
    // The port is free again: nothing kept listening.
    await expect(fetch(`${server.url}/api/health`)).rejects.toThrow();
  });
});

describe('with REDIS_URL', async () => {
  const available = await redisAvailable();
  it.skipIf(!available)(
    'starts with the Socket.IO Redis adapter and still says hello',
    async () => {
      const server = await startPanelServer({
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        ...ADMIN,
      });
      try {
        expect(server.output()).toContain('Redis adapter on');
        const login = await signInOverHttp(server.url, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
        const socket = io(server.url, {
          transports: ['websocket'],
          reconnection: false,
          extraHeaders: { cookie: login.cookie! },
        });
        const hello = await new Promise<{ user: { email: string } }>((resolve) =>
          socket.once('hello', resolve),
        );
        socket.close();
        expect(hello.user.email).toBe(ADMIN.ADMIN_EMAIL);
      } finally {
        expect(await server.stop()).toBe(0);
      }
    },
  );
});

describe('npm run db:migrate', () => {
  it('applies the committed migrations to DATABASE_URL, then finds nothing to do', async () => {
    const target = await createTestDatabase(inject('testDatabase'));
    try {
      const run = () => runScript('scripts/db-migrate.ts', [], { DATABASE_URL: target.url });
      expect(await run()).toEqual({ code: 0, output: `applied: ${MIGRATION_NAMES.join(', ')}\n` });
      expect(await run()).toEqual({ code: 0, output: 'database is up to date\n' });
    } finally {
      await target.drop();
    }
  });

  // PGlite serves one database under any name: the mistake cannot happen there.
  it.skipIf(inject('testDatabase').kind === 'pglite')(
    'refuses a DATABASE_URL naming a database that does not exist, creating none',
    async () => {
      const target = inject('testDatabase');
      if (target.kind !== 'postgresql') throw new Error('PostgreSQL only');
      const name = `rp_missing_${Date.now().toString(36)}`;
      const url = new URL(target.adminUrl);
      url.pathname = `/${name}`;
      const exists = async () => {
        const admin = new pg.Client({ connectionString: target.adminUrl });
        await admin.connect();
        try {
          return (await admin.query('select 1 from pg_database where datname = $1', [name]))
            .rowCount;
        } finally {
          await admin.end();
        }
      };
      const migrated = await runScript('scripts/db-migrate.ts', [], {
        DATABASE_URL: url.toString(),
      });
      expect(migrated).toEqual({
        code: 1,
        output: `migration failed: the database "${name}" that DATABASE_URL names does not exist: create it first (createdb ${name}); the panel never creates one\n`,
      });
      const started = await runPanelUntilExit({
        DATABASE_URL: url.toString(),
        PUBLIC_URL: 'https://panel.carrier.example',
        AUTH_SECRET: 'lifecycle-secret-0123456789abcdefghij',
        ...ADMIN,
      });
      expect(started.code).toBe(1);
      expect(started.output).toContain(
        `the database "${name}" that DATABASE_URL names does not exist`,
      );
      expect(await exists()).toBe(0);
    },
  );
});
