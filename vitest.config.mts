import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Integration files that need the production server (`npm run build` first): pages and
 * Next's own answers, several processes, restarts and faults, the start-up itself.
 * Every other integration file runs the panel in its own process
 * (tests/fixtures/in-process-panel.ts) and needs no build.
 */
const SPAWNED = [
  'carrier-create',
  'csrf-headers',
  'database-start',
  'faults',
  'input-errors',
  'live-processes',
  'login-and-socket',
  'mfa',
  'observability',
  'server-lifecycle',
  'sessions',
].map((name) => `tests/integration/${name}.test.ts`);

const integration = {
  environment: 'node' as const,
  globalSetup: ['tests/integration/global-setup.ts'],
  // Files start real servers and databases; on 2 cores one file at a time is both
  // faster and steadier.
  fileParallelism: false,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  resolve: { alias: { '@': root } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          ...integration,
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          exclude: SPAWNED,
        },
      },
      {
        extends: true,
        test: {
          ...integration,
          name: 'spawned',
          include: SPAWNED,
          globalSetup: [...integration.globalSetup, 'tests/integration/fresh-build.ts'],
        },
      },
    ],
  },
});
