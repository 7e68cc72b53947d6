import { defineConfig } from '@playwright/test';

/**
 * e2e against the production build on the embedded database, in Debian's Chromium
 * (never a downloaded browser). The server gets a fresh data folder per run.
 */
const PORT = Number(process.env.E2E_PORT ?? 3100);
export const E2E_ADMIN = { email: 'e2e-admin@demo-carrier.test', password: 'e2e-admin-password' };

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '**/*.spec.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  timeout: 60_000,
  // A whole-page load (view-as start and stop reload the page) can take several seconds
  // on a busy 2-core machine; the default 5 s made waits for it flaky.
  expect: { timeout: 10_000 },
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    // One sign-in through the form for the run; specs reuse its session (adminPage).
    { name: 'setup', testMatch: '**/*.setup.ts', use: { browserName: 'chromium' } },
    {
      name: 'chromium',
      dependencies: ['setup'],
      use: { browserName: 'chromium', viewport: { width: 1280, height: 800 } },
    },
  ],
  webServer: {
    command:
      'node scripts/ensure-build.mjs && rm -rf .e2e-data && node --import tsx server/index.ts',
    url: `http://localhost:${PORT}/api/health`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'pipe',
    env: {
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      PORT: String(PORT),
      DATA_DIR: '.e2e-data',
      DATABASE_URL: '',
      ADMIN_EMAIL: E2E_ADMIN.email,
      ADMIN_PASSWORD: E2E_ADMIN.password,
    },
  },
});
