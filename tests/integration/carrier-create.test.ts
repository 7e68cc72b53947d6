import { describe, expect, it } from 'vitest';
import { usePanelSuite } from '../fixtures/panel-suite';
import { runScript } from '../fixtures/panel-server';
import { apiClient } from '../fixtures/api-client';

const FIRST = { ADMIN_EMAIL: 'admin@first.test', ADMIN_PASSWORD: 'first-carrier-pass' };

// The script runs as its own process, as `npm run carrier:create` does; the panel its
// tenants sign in to runs in process (no build involved).
const suite = usePanelSuite(FIRST);

const create = (args: string[], env: Record<string, string> = {}) =>
  runScript('scripts/carrier-create.ts', args, {
    DATABASE_URL: suite.db.url,
    ADMIN_PASSWORD: '',
    ...env,
  });

describe('npm run carrier:create', () => {
  it('adds an isolated tenant whose admin signs in and sees nothing of the first', async () => {
    const result = await create([
      '--name',
      'Second Carrier',
      '--admin-email',
      'Ops@Second.test',
      '--admin-password',
      'second-carrier-pass',
    ]);
    expect(result.code).toBe(0);
    expect(result.output).toMatch(
      /^carrier created: Second Carrier \([0-9a-f-]{36}\)\nadmin: ops@second\.test\n$/,
    );

    const first = await apiClient(suite.server.url, FIRST.ADMIN_EMAIL, FIRST.ADMIN_PASSWORD);
    await first.post('/resellers', { name: 'First Reseller', email: 'r@first.test' });
    const second = await apiClient(suite.server.url, 'ops@second.test', 'second-carrier-pass');
    const me = (await second.get('/me')).body;
    expect(me.account).toMatchObject({ name: 'Second Carrier', kind: 'carrier' });
    expect(me.grants).toContain('impersonation:start');
    expect((await second.get('/resellers')).body.items).toEqual([]);
    expect((await second.get('/users')).body.items.map((u: { email: string }) => u.email)).toEqual([
      'ops@second.test',
    ]);
    // Its creation is audited for its own tenant only.
    expect((await second.get('/audit?resource=carriers')).body.items).toHaveLength(1);
    expect((await first.get('/audit?resource=carriers')).body.items).toEqual([]);
  });

  it('generates and prints a password when none is given, never the first admin’s', async () => {
    // A host with DATABASE_URL always has the first carrier's ADMIN_PASSWORD set.
    const result = await create(['--name', 'Third Carrier', '--admin-email', 'ops@third.test'], {
      ADMIN_PASSWORD: FIRST.ADMIN_PASSWORD,
    });
    expect(result.code).toBe(0);
    const password = /admin: ops@third\.test \/ (\S+)\n/.exec(result.output)?.[1];
    expect(password).toMatch(/^[\w-]{16}$/);
    expect(password).not.toBe(FIRST.ADMIN_PASSWORD);
    expect(
      (await (await apiClient(suite.server.url, 'ops@third.test', password!)).get('/me')).status,
    ).toBe(200);
  });

  it('refuses a duplicate admin email and missing arguments, writing nothing', async () => {
    const duplicate = await create([
      '--name',
      'Again',
      '--admin-email',
      'ops@second.test',
      '--admin-password',
      'another-password',
    ]);
    expect(duplicate).toEqual({
      code: 1,
      output: 'carrier:create: a user with the email ops@second.test exists already\n',
    });
    const missing = await create(['--admin-email', 'x@y.test']);
    expect(missing).toEqual({ code: 1, output: 'carrier:create: --name is required\n' });
    // The tenant's most privileged person is held to the panel's password rule.
    const weak = await create([
      '--name',
      'Weak',
      '--admin-email',
      'ops@weak.test',
      '--admin-password',
      'aaaaaaaaaaaa',
    ]);
    expect(weak).toEqual({
      code: 1,
      output: 'carrier:create: --admin-password must not be one character repeated\n',
    });
    const first = await apiClient(suite.server.url, FIRST.ADMIN_EMAIL, FIRST.ADMIN_PASSWORD);
    const emails = (await first.get('/users?q=ops@weak.test')).body.items;
    expect(emails).toEqual([]);
  });
});
