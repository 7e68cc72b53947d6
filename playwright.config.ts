import { readdirSync } from 'node:fs';
import { defineConfig, type PlaywrightTestConfig } from '@playwright/test';

/**
 * e2e against the production build, in Debian's Chromium (never a downloaded browser).
 * Two lanes run side by side, each with its own server and a fresh database
 * (tests/e2e/lane-server.ts: PostgreSQL where it answers, else the embedded database):
 * a spec only ever shares a server with the specs of its own lane,
 * which run one after another, so no spec sees another's writes while it runs. A lane
 * waits on the browser and the server about half of the time (measured: 110 s of CPU in
 * 229 s), so two fill the 2 cores (three overload them).
 */
const PORT = Number(process.env.E2E_PORT ?? 3100);
export const E2E_ADMIN = { email: 'e2e-admin@demo-carrier.test', password: 'e2e-admin-password' };

/**
 * The specs of each lane, balanced by their measured length. The accessibility pass
 * (every page, both themes, three viewers) was about half of the whole run (276 s on
 * PostgreSQL at load 6), so its two specs share the first lane with the short portal,
 * sign-in and MFA journeys and the CSP walk; the second lane is the rest (2026-12-04,
 * quiet machine: 306 and 335 test-seconds, after which MFA and the forced password
 * change, 15 s together, moved to the first lane; 2026-12-05, 313 and 499 test-seconds
 * on a slower host, and 361 / 407 in another run: the feedback journey, 50 s, moved to
 * the first lane). Three lanes were tried (2026-12-02):
 * on 2 cores every test slowed down (load 15) and the run took 13.6 min against 4.4.
 */
const LANES = [
  [
    'accessibility',
    'accessibility-narrow',
    'customer-self-care',
    'feedback',
    'forced-password',
    'mfa',
    'page-load',
    'portals',
    'security-headers',
    'sign-in',
  ],
  [
    'account-edit',
    'cards-live',
    'lists-scale',
    'record-pages',
    'reseller-workflow',
    'statements',
    'traffic-live',
    'view-as-identity',
  ],
];

// A spec in no lane would never run, silently: refuse to start instead.
const unplaced = readdirSync('tests/e2e')
  .filter((file) => file.endsWith('.spec.ts'))
  .map((file) => file.replace(/\.spec\.ts$/, ''))
  .filter((spec) => !LANES.some((lane) => lane.includes(spec)));
if (unplaced.length) throw new Error(`playwright.config.ts: put ${unplaced.join(', ')} in a lane`);

const laneProjects: PlaywrightTestConfig['projects'] = LANES.flatMap((specs, lane) => {
  const use = { browserName: 'chromium' as const, baseURL: `http://localhost:${PORT + lane}` };
  return [
    // One sign-in through the form per lane; its specs reuse that session (adminPage).
    { name: `setup-${lane}`, testMatch: '**/*.setup.ts', use },
    {
      name: `lane-${lane}`,
      dependencies: [`setup-${lane}`],
      testMatch: specs.map((spec) => `**/${spec}.spec.ts`),
      // The lane's specs one after another on its own server.
      workers: 1,
      use: { ...use, viewport: { width: 1280, height: 800 } },
    },
  ];
});

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '**/*.spec.ts',
  workers: LANES.length,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  timeout: 60_000,
  // A whole-page load (view-as start and stop reload the page) can take several seconds
  // on a busy 2-core machine; the default 5 s made waits for it flaky.
  expect: { timeout: 10_000 },
  use: {
    // No trace by default: recording one for every test (kept only for a failure) made
    // the browser encode a screencast throughout — one CPU-minute of the stage's ~190
    // (whole stage 5.2 min with it, 4.1 and 4.2 without, 2026-12-03). To debug a
    // failure: `npx playwright test <spec> --trace retain-on-failure`.
    trace: 'off',
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
  projects: laneProjects,
  // Started one after another: the first builds when the build is stale, the second
  // finds it fresh.
  webServer: LANES.map((_, lane) => ({
    // A fresh database per lane and run: PostgreSQL where it answers, else the embedded
    // one (tests/e2e/lane-server.ts).
    command: `node scripts/ensure-build.mjs && node --import tsx tests/e2e/lane-server.ts ${lane}`,
    url: `http://localhost:${PORT + lane}/api/health`,
    reuseExistingServer: false,
    timeout: 180_000,
    stdout: 'pipe' as const,
    env: {
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      PORT: String(PORT + lane),
      // Required in production on PostgreSQL; this machine's own name may be http.
      PUBLIC_URL: `http://localhost:${PORT + lane}`,
      // Required on PostgreSQL; on the embedded database it replaces the generated one.
      AUTH_SECRET: 'e2e-lanes-auth-secret-0123456789abcdef',
      ADMIN_EMAIL: E2E_ADMIN.email,
      ADMIN_PASSWORD: E2E_ADMIN.password,
    },
  })),
});
