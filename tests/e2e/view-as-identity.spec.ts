import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { adminApi, adminPage, signIn, viewAsFromPage } from '../fixtures/e2e-sign-in';
import { closeContexts } from '../fixtures/e2e-close';
import { holdSocket } from '../fixtures/e2e-hold-scripts';

/**
 * View-as never shows one identity's data to another (issue 15, "Identity-safe cache").
 * The admin's tab first holds the admin's own view of every page in its cache; support
 * then views the panel as a user of Acme Voice, walks every page, and stops. A recorder
 * in the tab (every document, from its first byte) notes any text that ever enters the
 * page naming an account outside Acme's subtree, and every value a dashboard counter
 * shows — so a first paint from the other identity's cache fails the test even when a
 * refetch corrects it a moment later.
 */
const TARGET = { email: 'identity-target@acme-voice.test', password: 'e2e-identity-password' };
/** Support and the reseller user it views as, in the test of access changed elsewhere. */
const RESCOPE = {
  support: { email: 'rescope-support@demo-carrier.test', password: 'e2e-rescope-password' },
  target: { email: 'rescope-target@acme-voice.test', password: 'e2e-rescope-password' },
};
/** Accounts of the demo carrier outside Acme Voice's subtree (lib/server/db/seed.ts). */
const OUTSIDE = ['Blue Telecom', 'Green Grocers', 'Direct Logistics'];

// The browser outlives a test: close the people it opened, or their live pages keep
// refetching on every later change (a view-as re-scopes every tab of the admin).
test.afterEach(async ({ browser }) => {
  await closeContexts(browser.contexts());
});

interface TRecord {
  outside: string[];
  counters: string[];
}

/**
 * Runs in every document of the tab before its scripts. Records only once armed
 * (`rp-arm` in sessionStorage) and the tab has left the page it was armed on, so the
 * admin's own page, still on screen while the request is under way, is not counted.
 */
function installRecorder(outside: string[]) {
  const push = (key: string, value: string) => {
    const list = JSON.parse(sessionStorage.getItem(key) ?? '[]') as string[];
    list.push(value);
    sessionStorage.setItem(key, JSON.stringify(list));
  };
  const recording = () => {
    const armedOn = sessionStorage.getItem('rp-arm');
    if (armedOn === null) return false;
    if (sessionStorage.getItem('rp-left') === '1') return true;
    if (armedOn === '*' || location.pathname !== armedOn) {
      sessionStorage.setItem('rp-left', '1');
      return true;
    }
    return false;
  };
  const scan = (node: Node) => {
    if (!recording()) return;
    const text = node.textContent ?? '';
    for (const name of outside) {
      if (text.includes(name)) push('rp-outside', `${location.pathname}: ${name}`);
    }
    const element = node instanceof Element ? node : node.parentElement;
    const counters = [
      ...(element?.closest('[data-testid^="count-"]')
        ? [element.closest('[data-testid^="count-"]')!]
        : []),
      ...(node instanceof Element ? [...node.querySelectorAll('[data-testid^="count-"]')] : []),
    ];
    for (const counter of counters) {
      push('rp-counters', `${counter.getAttribute('data-testid')}=${counter.textContent}`);
    }
  };
  new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === 'characterData') scan(record.target);
      record.addedNodes.forEach(scan);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

async function arm(page: Page, on: string): Promise<void> {
  await page.evaluate((path) => {
    sessionStorage.removeItem('rp-outside');
    sessionStorage.removeItem('rp-counters');
    sessionStorage.removeItem('rp-left');
    sessionStorage.setItem('rp-arm', path);
  }, on);
}

async function recorded(page: Page): Promise<TRecord> {
  return page.evaluate(() => ({
    outside: JSON.parse(sessionStorage.getItem('rp-outside') ?? '[]') as string[],
    counters: JSON.parse(sessionStorage.getItem('rp-counters') ?? '[]') as string[],
  }));
}

/** A person's dashboard counters, by bearer token, as `count-<key>=<value>`. */
async function countersOf(request: APIRequestContext, headers: Record<string, string>) {
  const counts = (await (await request.get('/api/v1/dashboard', { headers })).json()) as Record<
    string,
    number | null
  >;
  return Object.fromEntries(
    Object.entries(counts)
      .filter(([, value]) => typeof value === 'number')
      .map(([key, value]) => [`count-${key}`, String(value)]),
  );
}

/** Every section in the nav, one after another, each until its content has loaded. */
async function walkEverySection(page: Page): Promise<string[]> {
  const nav = page.getByRole('navigation', { name: 'Panel' });
  const labels = await nav.getByRole('link').allTextContents();
  for (const label of labels) {
    await nav.getByRole('link', { name: label, exact: true }).click();
    await expect(nav.getByRole('link', { name: label, exact: true })).toHaveAttribute(
      'aria-current',
      'page',
    );
    await expect(page.getByText('Live', { exact: true })).toBeVisible();
    // Loaded: no placeholder left in the main area.
    await expect(page.locator('main').getByText(/^Loading…$|^…$/)).toHaveCount(0);
  }
  return labels;
}

test('view-as start and stop: no page ever shows the other identity’s data', async ({
  browser,
  request,
}) => {
  const { headers } = await adminApi(request, 'e2e identity');
  const api = async (method: string, path: string, data?: unknown) => {
    const response = await request.fetch(`/api/v1${path}`, { method, headers, data });
    expect(response.status(), `${method} ${path}`).toBeLessThan(300);
    return response.json();
  };
  // A view left open by an earlier failure would make the admin read-only here.
  await request.fetch('/api/v1/impersonation', { method: 'DELETE', headers });
  const acme = (await api('GET', `/resellers?q=${encodeURIComponent('Acme Voice')}`)).items[0];
  const group = await api('POST', '/groups', {
    template: 'default-reseller',
    name: 'E2E identity',
  });
  const target = await api('POST', '/users', {
    email: TARGET.email,
    password: TARGET.password,
    accountId: acme.id,
    groupId: group.id,
  });
  const targetToken = (await (await request.post('/api/v1/auth/token', { data: TARGET })).json())
    .token as string;
  const adminCounters = await countersOf(request, headers);
  const targetCounters = await countersOf(request, { authorization: `Bearer ${targetToken}` });
  // The check below can only tell the two apart where they differ.
  expect(adminCounters['count-resellers']).not.toBe(targetCounters['count-resellers']);

  // Something outside Acme happens, so the admin's Overview and audit name it.
  const grocers = (await api('GET', `/customers?q=${encodeURIComponent('Green Grocers')}`))
    .items[0];
  await api('PATCH', `/customers/${grocers.id}`, { version: grocers.version, creditLimit: '501' });

  const page = await adminPage(browser);
  await page.addInitScript(installRecorder, OUTSIDE);
  // A slow link: the socket's news of the change of identity (`session.rescoped`) comes
  // two seconds late. What the page shows must not wait on it.
  await page.routeWebSocket(/\/socket\.io\//, (socket) => {
    const server = socket.connectToServer();
    socket.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      if (typeof message === 'string' && message.includes('"session.rescoped"')) {
        setTimeout(() => socket.send(message), 2_000);
      } else socket.send(message);
    });
  });
  await page.reload();
  try {
    // The admin's own view of every page, in the tab's cache.
    const adminSections = await walkEverySection(page);
    expect(adminSections).toContain('Audit log');
    await page
      .getByRole('navigation', { name: 'Panel' })
      .getByRole('link', { name: 'Audit log', exact: true })
      .click();
    await expect(page.getByRole('table', { name: 'Audit log' })).toContainText('Green Grocers');

    // View as the Acme user, from its page (its row on Users links to it).
    await page
      .getByRole('navigation', { name: 'Panel' })
      .getByRole('link', { name: 'Users', exact: true })
      .click();
    await page.getByRole('link', { name: TARGET.email, exact: true }).click();
    await page.getByRole('link', { name: 'Manage', exact: true }).click();
    const viewAs = page.getByRole('form', { name: 'View as this user' });
    await viewAs.getByLabel('Why (recorded in the audit log)').fill('Ticket 9001: identity check');
    await arm(page, new URL(page.url()).pathname);
    await viewAs.getByRole('button', { name: `View as ${TARGET.email}` }).click();
    await expect(page.getByTestId('impersonation-banner')).toContainText(
      `Viewing as ${TARGET.email}`,
    );
    await expect(page.getByTestId('signed-in-user')).toContainText(TARGET.email);
    const targetSections = await walkEverySection(page);
    expect(targetSections).toContain('Audit log');
    expect(targetSections).toContain('Overview');
    await page
      .getByRole('navigation', { name: 'Panel' })
      .getByRole('link', { name: 'Overview', exact: true })
      .click();
    for (const [testId, value] of Object.entries(targetCounters)) {
      await expect(page.getByTestId(testId)).toHaveText(value);
    }
    const asTarget = await recorded(page);
    // The recorder was on: it saw the target's counters.
    expect(asTarget.counters).toContain(`count-resellers=${targetCounters['count-resellers']}`);
    expect(asTarget.outside, 'the admin’s data on the target’s pages').toEqual([]);
    for (const seen of asTarget.counters) {
      const [testId, value] = seen.split('=');
      if (value !== '…')
        expect(seen, 'a counter as the target').toBe(`${testId}=${targetCounters[testId!]}`);
    }

    // One's own credentials are one's own, and a view is read-only: the security and
    // password pages say so instead of offering forms the server would refuse.
    await page.goto('/account/security');
    await expect(page.getByTestId('mfa-state')).toBeVisible();
    await expect(page.getByRole('note')).toContainText('end the view to change your own');
    await expect(page.getByRole('form', { name: 'Set up MFA' })).toHaveCount(0);
    // Its own way out says so when the server cannot be reached, and the view stays.
    await page.route('**/api/v1/impersonation', (route) => route.abort('connectionrefused'));
    const note = page.getByRole('note');
    await note.getByRole('button', { name: 'Stop viewing' }).click();
    await expect(note.getByRole('alert')).toContainText('Could not end the view');
    await expect(note.getByRole('button', { name: 'Stop viewing' })).toBeEnabled();
    await page.unroute('**/api/v1/impersonation');
    await page.goto('/password');
    await expect(page.getByRole('note')).toContainText('end the view to change your own password');
    await expect(page.getByRole('form', { name: 'Change password' })).toHaveCount(0);
    await page.goto('/');
    for (const [testId, value] of Object.entries(targetCounters)) {
      await expect(page.getByTestId(testId)).toHaveText(value);
    }

    // Stop, on Overview: back on the user's page where the view began, as the admin;
    // then the admin's counters, never the target's.
    await arm(page, '*');
    await page
      .getByTestId('impersonation-banner')
      .getByRole('button', { name: 'Stop viewing' })
      .click();
    await expect(page.getByTestId('impersonation-banner')).toHaveCount(0);
    await expect(page).toHaveURL(new RegExp(`/users/${target.id}\\?tab=manage$`));
    await expect(page.getByTestId('signed-in-user')).not.toContainText(TARGET.email);
    await page
      .getByRole('navigation', { name: 'Panel' })
      .getByRole('link', { name: 'Overview', exact: true })
      .click();
    for (const [testId, value] of Object.entries(adminCounters)) {
      await expect(page.getByTestId(testId)).toHaveText(value);
    }
    const afterStop = await recorded(page);
    expect(afterStop.counters).toContain(`count-resellers=${adminCounters['count-resellers']}`);
    for (const seen of afterStop.counters) {
      const [testId, value] = seen.split('=');
      if (value !== '…')
        expect(seen, 'a counter after stopping').toBe(`${testId}=${adminCounters[testId!]}`);
    }
  } finally {
    // The view belongs to the admin user, not this tab: never leave it open for later specs.
    await request.fetch('/api/v1/impersonation', { method: 'DELETE', headers });
    await api('PATCH', `/users/${target.id}`, { version: target.version, status: 'disabled' });
  }
});

/**
 * From now on in `page`: every API answer of 400 or more, every alert the document shows,
 * every dashboard read. The document must stay the same one (its record must survive).
 */
async function watchTurn(page: Page) {
  const refused: string[] = [];
  const dashboardReads: string[] = [];
  page.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith('/api/') && response.status() >= 400) {
      refused.push(`${response.status()} ${path}`);
    }
    if (path === '/api/v1/dashboard') dashboardReads.push(path);
  });
  await page.evaluate(() => {
    const alerts: string[] = [];
    Object.assign(window, { rpAlerts: alerts });
    new MutationObserver(() => {
      for (const alert of document.querySelectorAll('[role="alert"]')) {
        if (alert.textContent?.trim()) alerts.push(alert.textContent.trim());
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  return {
    refused,
    dashboardReads,
    alerts: () =>
      page.evaluate(() => (window as unknown as { rpAlerts?: string[] }).rpAlerts ?? null),
  };
}

/** The Overview has loaded: live, counters read, no placeholder left in the main area. */
async function overviewLoaded(page: Page): Promise<void> {
  await expect(page.getByText('Live', { exact: true })).toBeVisible();
  await expect(page.getByTestId('count-customers')).not.toHaveText('…');
  await expect(page.locator('main').getByText(/^Loading…$|^…$/)).toHaveCount(0);
}

test('access changed elsewhere: the page turns without asking for what it may not read', async ({
  browser,
  request,
}) => {
  const { headers, me } = await adminApi(request, 'e2e rescope');
  const api = async (method: string, path: string, data?: unknown, as = headers) => {
    const response = await request.fetch(`/api/v1${path}`, { method, headers: as, data });
    expect(response.status(), `${method} ${path}`).toBeLessThan(300);
    return response.status() === 204 ? null : response.json();
  };
  const acme = (await api('GET', `/resellers?q=${encodeURIComponent('Acme Voice')}`)).items[0];
  const resellerGroup = await api('POST', '/groups', {
    template: 'default-reseller',
    name: 'E2E rescope target',
  });
  const target = await api('POST', '/users', {
    email: RESCOPE.target.email,
    password: RESCOPE.target.password,
    accountId: acme.id,
    groupId: resellerGroup.id,
  });
  // Support may find people and view as them, and read none of a reseller's dashboard.
  const supportGroup = await api('POST', '/groups', {
    name: 'E2E rescope support',
    grants: ['users:read', 'resellers:read', 'customers:read', 'impersonation:start'],
  });
  const support = await api('POST', '/users', {
    email: RESCOPE.support.email,
    password: RESCOPE.support.password,
    accountId: me.account.id,
    groupId: supportGroup.id,
  });
  const supportToken = (
    await (await request.post('/api/v1/auth/token', { data: RESCOPE.support })).json()
  ).token as string;
  const asSupport = { authorization: `Bearer ${supportToken}` };

  try {
    // 1. Another identity: support views as the reseller user, and the view ends from
    // another place (support's script, whose token may end the person's view); this tab
    // hears it live and turns to support's own panel. (Its old sections used to ask, as
    // support, for the reseller's exposure and traffic: 403s, and an error in the
    // exposure section.)
    const viewing = await (await browser.newContext()).newPage();
    await signIn(viewing, RESCOPE.support.email, RESCOPE.support.password);
    await viewAsFromPage(viewing, target.id, 'E2E: rescope');
    await expect(viewing.getByTestId('impersonation-banner')).toContainText(
      `Viewing as ${RESCOPE.target.email}`,
    );
    await overviewLoaded(viewing);
    await expect(viewing.getByTestId('exposure')).toBeVisible();
    const ending = await watchTurn(viewing);
    await api('DELETE', '/impersonation', undefined, asSupport);
    await expect(viewing.getByTestId('impersonation-banner')).toHaveCount(0);
    await expect(viewing.getByTestId('signed-in-user')).toContainText(RESCOPE.support.email);
    await expect(viewing.getByTestId('exposure')).toHaveCount(0);
    await overviewLoaded(viewing);
    expect(await ending.alerts(), 'errors shown while the page turned').toEqual([]);
    expect(ending.refused, 'what the page asked and may not read').toEqual([]);

    // 1b. The view ends between the page's render and its socket's join: the page was
    // rendered as the reseller user, the socket joins as support. The page turns as in 1
    // (it used to stay the reseller user's, its sections read as support), and what the
    // old page was about to read is never asked.
    await viewAsFromPage(viewing, target.id, 'E2E: rescope before the join');
    const { connecting, release } = await holdSocket(viewing);
    const early = await watchTurn(viewing);
    await viewing.reload();
    await expect(viewing.getByTestId('impersonation-banner')).toContainText(
      `Viewing as ${RESCOPE.target.email}`,
    );
    await connecting;
    await api('DELETE', '/impersonation', undefined, asSupport);
    release();
    await expect(viewing.getByTestId('impersonation-banner')).toHaveCount(0);
    await expect(viewing.getByTestId('signed-in-user')).toContainText(RESCOPE.support.email);
    await expect(viewing.getByTestId('exposure')).toHaveCount(0);
    await overviewLoaded(viewing);
    // The old page's reads, waiting for the join, were dropped, not sent as support.
    expect(early.refused, 'what the page asked and may not read').toEqual([]);
    await viewing.unroute('**/socket.io/**');

    // 2. The same identity, fewer grants: the reseller user's own tab, while the carrier
    // takes the ledger and usage from its group. The sections they opened go; what stays
    // is read again, as the new access.
    const own = await (await browser.newContext()).newPage();
    await signIn(own, RESCOPE.target.email, RESCOPE.target.password);
    await overviewLoaded(own);
    await expect(own.getByTestId('exposure')).toBeVisible();
    await expect(own.getByTestId('traffic')).toBeVisible();
    const narrowing = await watchTurn(own);
    const group = await api('GET', `/groups/${resellerGroup.id}`);
    await api('PATCH', `/groups/${resellerGroup.id}`, {
      version: group.version,
      grants: group.grants.filter((grant: string) => !/^(ledger|usage):/.test(grant)),
    });
    await expect(own.getByTestId('exposure')).toHaveCount(0);
    await expect(own.getByTestId('traffic')).toHaveCount(0);
    await overviewLoaded(own);
    expect(narrowing.dashboardReads, 'the counters read again').not.toEqual([]);
    expect(await narrowing.alerts(), 'errors shown while the page turned').toEqual([]);
    expect(narrowing.refused, 'what the page asked and may not read').toEqual([]);
  } finally {
    await request.fetch('/api/v1/impersonation', { method: 'DELETE', headers: asSupport });
    await api('PATCH', `/users/${support.id}`, { version: support.version, status: 'disabled' });
    await api('PATCH', `/users/${target.id}`, { version: target.version, status: 'disabled' });
  }
});
