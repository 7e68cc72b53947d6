import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { keepFirstLogin } from '@/lib/server/data-dir';
import { usePanelSuite } from '../fixtures/panel-suite';
import { runScript } from '../fixtures/panel-server';
import { apiClient } from '../fixtures/api-client';

/**
 * `npm run demo:traffic` posts made-up calls that are rated and billed like real ones:
 * it sends them only to a panel on the embedded demo database, unless `--force`. This
 * panel runs on PostgreSQL, as a carrier's does.
 */
const ADMIN = { ADMIN_EMAIL: 'admin@demo-traffic.test', ADMIN_PASSWORD: 'demo-traffic-pass' };
const suite = usePanelSuite(ADMIN);

const traffic = (args: string[]) =>
  runScript('scripts/demo-traffic.ts', ['--url', suite.server.url, '--once', ...args], {
    ...ADMIN,
    PANEL_URL: '',
    PANEL_TOKEN: '',
  });

it('leaves a panel on its own database alone unless forced', async () => {
  const refused = await traffic([]);
  expect(refused.code).toBe(1);
  expect(refused.output).toContain('not the embedded demo');
  expect(refused.output).toContain('--force');
  const admin = await apiClient(suite.server.url, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
  expect((await admin.get('/usage')).body.items).toEqual([]);

  // Forced, it posts its batch (the customers here hold no card: stored unrated).
  expect((await admin.post('/customers', { name: 'Called' })).status).toBe(201);
  const forced = await traffic(['--force', '--calls', '3']);
  expect(forced.code, forced.output).toBe(0);
  expect(forced.output).toMatch(/rated 0, unrated 3/);
  expect((await admin.get('/usage')).body.items).toHaveLength(3);
});

it('signs in with the login the embedded demo kept, when given no password', async () => {
  // README: `npm run demo:traffic` on the demo, with nothing more. The demo printed its
  // admin's password on first start and keeps it in first-login.txt of its data folder.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rp-demo-traffic-'));
  try {
    const withoutPassword = (dir: string) =>
      runScript(
        'scripts/demo-traffic.ts',
        ['--url', suite.server.url, '--once', '--force', '--calls', '1'],
        {
          ADMIN_EMAIL: ADMIN.ADMIN_EMAIL,
          ADMIN_PASSWORD: '',
          PANEL_URL: '',
          PANEL_TOKEN: '',
          DATA_DIR: dir,
        },
      );
    const none = await withoutPassword(dataDir);
    expect(none.code).toBe(1);
    expect(none.output).toContain('first-login.txt');
    await keepFirstLogin(dataDir, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
    const kept = await withoutPassword(dataDir);
    expect(kept.code, kept.output).toBe(0);
    expect(kept.output).toMatch(/rated \d+, unrated \d+/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
