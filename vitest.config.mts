import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { LongestFirst } from './tests/integration/longest-first.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Integration files that need the production server (`npm run build` first): pages and
 * Next's own answers, several processes (and `WORKERS=N`), restarts and faults, the
 * start-up itself.
 * Every other integration file runs the panel in its own process
 * (tests/fixtures/in-process-panel.ts) and needs no build.
 */
const SPAWNED = [
  'api-router',
  'brand-pages',
  'cluster-workers',
  'database-start',
  'faults',
  'live-pipeline',
  'live-processes',
  'production-server',
  'server-lifecycle',
].map((name) => `tests/integration/${name}.test.ts`);

const integration = {
  environment: 'node' as const,
  globalSetup: ['tests/integration/global-setup.ts'],
  // In process, a file mostly waits on PostgreSQL and its sockets: two files at a time
  // fill 2 cores (measured: 168 s for the in-process project against 445 s one by one).
  fileParallelism: true,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  resolve: { alias: { '@': root } },
  test: {
    // vitest's default is one worker less than the cores: one, here.
    maxWorkers: 2,
    // Longest files first, also on a clean clone (tests/integration/longest-first.ts).
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          // A hung test's limit, not a speed goal: the unit tests run beside lint, types
          // and the build (scripts/run-parallel.mjs), where a property test that scans
          // thousands of cases takes several times its quiet-machine time (5 s by default).
          testTimeout: 60_000,
          // Pure functions: one module graph per worker (2.2 s against 5.4 s isolated);
          // the tests that fake timers or fetch put them back after each test.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          ...integration,
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          exclude: SPAWNED,
          // Files of a worker share one module graph instead of importing the server, the
          // route handlers, next-auth and MikroORM afresh (~2.5 s per file): 102 s against
          // 134 s for the project. What a panel keeps on globalThis is set at its start and
          // cleared at its close, and a file runs only after the previous one closed; the
          // metrics registry is the process's, so tests compare counters before and after.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          ...integration,
          name: 'spawned',
          include: SPAWNED,
          // Each file runs production servers of its own (some several, some private
          // PostgreSQL or Redis instances) on its own database, free ports and Redis
          // channels (named by the database: server/redis-adapter.ts), so two files run
          // side by side: they wait on start-ups and restarts much of the time (measured
          // 70–85 s against 96–105 s one at a time, both cores busy 1.9 against 1.4).
          fileParallelism: true,
          globalSetup: [...integration.globalSetup, 'tests/integration/fresh-build.ts'],
        },
      },
    ],
  },
});
