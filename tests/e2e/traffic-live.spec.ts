import {
  expect,
  test,
  type APIRequestContext,
  type Browser,
  type Locator,
  type Page,
} from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { seriousViolations } from '../fixtures/e2e-accessibility';
import { adminApi, adminPage, adminState, signIn, viewAsFromPage } from '../fixtures/e2e-sign-in';
import { saveScreenshot } from '../fixtures/e2e-screenshot';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * The traffic dashboard, live (issue 18): calls posted through the API move the
 * Overview's numbers and chart on the carrier admin's screen (per reseller) and on the
 * reseller's (per customer) without a reload, each showing only its part — the
 * reseller never the carrier's cost; a customer whose credit the calls use up shows as
 * blocked live. Then the dashboard with traffic is scanned with axe (WCAG 2 A/AA: no
 * serious or critical finding), for the carrier admin, the reseller user and support
 * viewing as it, and so is the calls page (with `E2E_SCREENSHOTS=1` saved as
 * test-results/traffic/{overview,calls}-<role>-<width>-<theme>.png).
 */
// Set-up through the API, two people's screens and five batches: long on a busy machine.
test.describe.configure({ mode: 'serial', timeout: 180_000 });

const RESELLER = { email: 'ops@traffic-reseller.test', password: 'e2e-traffic-password' };
const SUPPORT = { email: 'support@traffic-carrier.test', password: 'e2e-traffic-support' };

const ids = { reseller: '', k1: '', k2: '', resellerUser: '', provider: '' };
let callNo = 0;

test.afterEach(async ({ browser }) => {
  await closeContexts(browser.contexts());
});

/** The carrier admin's API by bearer token: the set-up and the calls, as a switch posts them. */
async function api(request: APIRequestContext) {
  const { headers } = await adminApi(request, 'e2e traffic');
  return async (method: string, path: string, data?: unknown, as = headers) => {
    const response = await request.fetch(`/api/v1${path}`, { method, headers: as, data });
    expect(response.status(), `${method} ${path}: ${await response.text()}`).toBeLessThan(300);
    return response.json();
  };
}

/** `count` calls of one customer to a UK number (60 s each), or to a number no card routes. */
function calls(accountId: string, count: number, number = '441481700123') {
  return Array.from({ length: count }, () => ({
    id: `e2e-traffic-${Date.now()}-${++callNo}`,
    accountId,
    number,
    startedAt: new Date().toISOString(),
    seconds: 60,
  }));
}

/** The reseller user's own browser, signed in through the form, on the Overview. */
async function resellerPage(browser: Browser, width = 1280): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width, height: 900 } })).newPage();
  await signIn(page, RESELLER.email, RESELLER.password);
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  return page;
}

/**
 * What the accounts chart draws: its bars' outlines and its axis's labels (one account's
 * bar spans the chart whatever its value; the scale under it moves).
 */
async function drawn(page: Page): Promise<{ bars: string[]; ticks: string[] }> {
  const chart = page.getByTestId('traffic-chart-accounts');
  return {
    bars: await chart
      .locator('.recharts-bar-rectangle path')
      .evaluateAll((paths) => paths.map((path) => path.getAttribute('d') ?? '')),
    ticks: await chart
      .locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value')
      .allTextContents(),
  };
}

/** A table row's cell amounts (`data-amount`, the API's decimal strings). */
async function amounts(row: Locator): Promise<{ revenue: string | null; cost: string | null }> {
  return {
    revenue: await row.getByTestId('revenue').locator('[data-amount]').getAttribute('data-amount'),
    cost: await row.getByTestId('cost').locator('[data-amount]').getAttribute('data-amount'),
  };
}

test('calls move both dashboards live, each its own part; a customer out of credit shows blocked', async ({
  browser,
  request,
}) => {
  const call = await api(request);
  // The tree: a reseller with two customers, K2 on a small credit limit; cards carrier →
  // reseller → customers (UK at 0.0100, +20 %, +50 %: 60 s costs 0.0100, 0.0120, 0.0180).
  const group = await call('POST', '/groups', {
    template: 'default-reseller',
    name: 'E2E traffic resellers',
  });
  const reseller = await call('POST', '/resellers', {
    name: 'Traffic Reseller',
    email: 'billing@traffic-reseller.test',
  });
  ids.reseller = reseller.id;
  const user = await call('POST', '/users', {
    email: RESELLER.email,
    password: RESELLER.password,
    accountId: reseller.id,
    groupId: group.id,
  });
  ids.resellerUser = user.id;
  ids.k1 = (await call('POST', '/customers', { name: 'Traffic K1', parentId: reseller.id })).id;
  ids.k2 = (
    await call('POST', '/customers', {
      name: 'Traffic K2',
      parentId: reseller.id,
      creditLimit: '0.05',
    })
  ).id;
  const provider = await call('POST', '/cards', {
    name: 'Traffic provider',
    currency: 'EUR',
    kind: 'provider',
  });
  ids.provider = provider.id;
  await call('PUT', `/cards/${provider.id}/rates`, {
    rates: [{ prefix: '44', destination: 'United Kingdom', rate: '0.0100' }],
  });
  const wholesale = await call('POST', `/cards/${provider.id}/derive`, {
    name: 'Traffic wholesale',
    markupPercent: '20',
  });
  await call('POST', '/assignments', { cardId: wholesale.id, accountId: reseller.id });
  const resellerToken = (
    await (
      await request.post('/api/v1/auth/token', {
        data: { ...RESELLER, name: 'e2e traffic reseller' },
      })
    ).json()
  ).token as string;
  const asReseller = { authorization: `Bearer ${resellerToken}` };
  const retail = await call(
    'POST',
    `/cards/${wholesale.id}/derive`,
    { name: 'Traffic retail', markupPercent: '50' },
    asReseller,
  );
  for (const customer of [ids.k1, ids.k2]) {
    await call('POST', '/assignments', { cardId: retail.id, accountId: customer }, asReseller);
  }

  const admin = await adminPage(browser);
  const mine = await resellerPage(browser);
  for (const page of [admin, mine]) await expect(page.getByTestId('traffic')).toBeVisible();
  await expect(mine.getByTestId('traffic')).toContainText('No traffic yet');

  // The first batch: three calls of K1, and one to a number no card routes.
  await call('POST', '/usage', { records: [...calls(ids.k1, 3), ...calls(ids.k1, 1, '99912345')] });
  const adminRow = admin.getByTestId(`traffic-row-${ids.reseller}`);
  await expect(adminRow.getByRole('cell').nth(1)).toHaveText('3');
  await expect(adminRow.getByRole('cell').nth(6)).toHaveText('1');
  // The unrated call is named first thing on the Overview, live, with its reason.
  await expect(
    admin.getByRole('region', { name: /unrated calls?, charged to no one/ }),
  ).toContainText('no route');
  // The carrier's part: what the reseller paid it, and its own provider cost.
  expect(await amounts(adminRow)).toEqual({ revenue: '0.036000', cost: '0.030000' });
  const k1Row = mine.getByTestId(`traffic-row-${ids.k1}`);
  await expect(k1Row.getByRole('cell').nth(1)).toHaveText('3');
  // The reseller's part: what K1 paid it, and what it paid the carrier — never the
  // carrier's own cost, anywhere on its screen.
  expect(await amounts(k1Row)).toEqual({ revenue: '0.054000', cost: '0.036000' });
  await expect(mine.locator('[data-amount="0.030000"]')).toHaveCount(0);
  // The screens agree with the API, viewer by viewer.
  const summary = await call('GET', '/usage/summary?by=account', undefined, asReseller);
  expect(summary.rows.map((row: { key: string }) => row.key)).toEqual([ids.k1]);
  // The charts' code is fetched once there are calls to draw (next/dynamic): they draw a
  // moment after the table has its numbers, so wait for their bars before reading them.
  for (const page of [admin, mine]) {
    await expect(
      page.getByTestId('traffic-chart-accounts').locator('.recharts-bar-rectangle path'),
    ).toHaveCount(2);
  }
  const adminChart = await drawn(admin);
  const resellerChart = await drawn(mine);
  // Revenue and cost: a bar each, on a scale.
  expect(adminChart.bars).toHaveLength(2);
  expect(resellerChart.bars).toHaveLength(2);
  expect(adminChart.ticks.length).toBeGreaterThan(1);

  // A second batch: the numbers and the bars move on both screens, live.
  await call('POST', '/usage', { records: calls(ids.k1, 2) });
  await expect(adminRow.getByRole('cell').nth(1)).toHaveText('5');
  await expect(k1Row.getByRole('cell').nth(1)).toHaveText('5');
  await expect(admin.getByTestId('traffic-calls')).toHaveText('5');
  await expect.poll(() => drawn(admin)).not.toEqual(adminChart);
  await expect.poll(() => drawn(mine)).not.toEqual(resellerChart);
  expect(await amounts(k1Row)).toEqual({ revenue: '0.090000', cost: '0.060000' });

  // K2 uses up its credit (0.05: the third call crosses it): blocked, live.
  const exposure = mine.getByRole('table', { name: 'Credit exposure' });
  await expect(exposure.getByRole('row', { name: /Traffic K2/ })).toContainText('Open');
  await call('POST', '/usage', { records: calls(ids.k2, 3) });
  await expect(exposure.getByRole('row', { name: /Traffic K2/ })).toContainText('Blocked');
  // First among those with the least credit left (what that list ranks, by name).
  await expect(
    mine.getByRole('region', { name: 'Least credit left' }).getByRole('listitem').first(),
  ).toContainText('Blocked');
  await expect(mine.getByTestId(`traffic-row-${ids.k2}`).getByRole('cell').nth(1)).toHaveText('3');

  // The carrier drills down: the reseller's customers, then K1's calls.
  await admin.getByRole('button', { name: 'Traffic Reseller: traffic by customer' }).click();
  await expect(admin.getByTestId(`traffic-row-${ids.k1}`).getByRole('cell').nth(1)).toHaveText('5');
  await admin.getByRole('button', { name: 'Traffic K1: calls' }).click();
  const callRows = admin.getByRole('table', { name: 'Calls of Traffic K1' }).getByRole('row');
  await expect(callRows).toHaveCount(7);
  await expect(admin.getByRole('table', { name: 'Calls of Traffic K1' })).toContainText(
    'unrated: no route',
  );
  // Live there too: K1's next call shows in its list.
  await call('POST', '/usage', { records: calls(ids.k1, 1) });
  await expect(callRows).toHaveCount(8);

  // A customer calling before it has a card: unrated "no card" until it is given one,
  // then rated again from its calls — asked first, then charged, and the list says so.
  const k3 = (await call('POST', '/customers', { name: 'Traffic K3', parentId: reseller.id }))
    .id as string;
  await call('POST', '/usage', { records: calls(k3, 1) });
  await admin
    .getByRole('navigation', { name: 'Traffic drill-down' })
    .getByRole('button', { name: 'Traffic Reseller' })
    .click();
  await admin.getByRole('button', { name: 'Traffic K3: calls' }).click();
  const k3Calls = admin.getByRole('table', { name: 'Calls of Traffic K3' });
  await expect(k3Calls).toContainText('unrated: no card');
  await call('POST', '/assignments', { cardId: retail.id, accountId: k3 }, asReseller);
  await admin.getByRole('button', { name: 'Re-rate unrated calls' }).click();
  const dialog = admin.getByRole('alertdialog');
  await expect(dialog).toContainText('Rate the unrated calls of Traffic K3 again?');
  await dialog.getByRole('button', { name: 'Re-rate' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Rated' })).toHaveText(
    'Rated 1 call; none of those is left unrated.',
  );
  await expect(k3Calls).not.toContainText('unrated');
  await expect(k3Calls.locator('[data-amount="0.018000"]')).toBeVisible();
});

test('the calls page lists what needs attention, live, and downloads each viewer its own part', async ({
  browser,
  request,
}) => {
  const call = await api(request);
  const admin = await adminPage(browser);
  // The Overview names the unrated call's reason; its link opens the calls filtered by it.
  await admin
    .getByRole('region', { name: /unrated calls?, charged to no one/ })
    .getByRole('link', { name: 'no route' })
    .click();
  await expect(admin).toHaveURL(/\/calls\?status=unrated&reason=no_route$/);
  await expect(admin.getByLabel('Unrated because')).toHaveValue('no_route');
  const table = admin.getByRole('table', { name: 'Calls' });
  await expect(table.getByRole('row')).toHaveCount(2);
  await expect(table).toContainText('99912345');
  await expect(table).toContainText('unrated: no route');
  // Live: the next call no card routes joins the list without a reload.
  await call('POST', '/usage', { records: calls(ids.k1, 1, '99912346') });
  await expect(table.getByRole('row')).toHaveCount(3);
  // By the number's first digits, every status.
  await admin.getByRole('button', { name: 'Clear filters' }).click();
  // Typed as the price trace takes it: `+`, spaces and dashes are not digits of it.
  await admin.getByLabel('Number starts with').fill('+999 1234');
  await expect(table.getByRole('row')).toHaveCount(3);
  // A filter in error narrows nothing: no list, no export, rather than every call.
  await admin.getByLabel('Number starts with').fill('999x');
  await expect(
    admin.getByText('A filter above is not valid: fix it to see the list.'),
  ).toBeVisible();
  await expect(table).toHaveCount(0);
  await expect(admin.getByRole('link', { name: 'Export CSV' })).toHaveCount(0);
  await admin.getByLabel('Number starts with').fill('');
  // The carrier's seat: a K1 call paid it 0.012 (the reseller's price) and cost it 0.010.
  const rated = table
    .getByRole('row')
    .filter({ hasText: 'Traffic K1' })
    .filter({ hasNotText: 'unrated' });
  await expect(rated.first().locator('[data-amount]')).toHaveCount(4);
  expect(
    await rated
      .first()
      .locator('[data-amount]')
      .evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-amount'))),
  ).toEqual(['0.018000', '0.012000', '0.010000', '0.002000']);

  // K1's own people: their calls and the price they paid — no account, no money above.
  const customerGroup = await call('POST', '/groups', {
    template: 'default-customer',
    name: 'E2E traffic customers',
  });
  await call('POST', '/users', {
    email: 'desk@traffic-k1.test',
    password: RESELLER.password,
    accountId: ids.k1,
    groupId: customerGroup.id,
  });
  const desk = await (
    await browser.newContext({ viewport: { width: 1280, height: 900 } })
  ).newPage();
  await signIn(desk, 'desk@traffic-k1.test', RESELLER.password);
  await desk
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Calls' })
    .click();
  const own = desk.getByRole('table', { name: 'Calls' });
  await expect(own).toContainText('441481700123');
  await expect(own.getByRole('columnheader')).toHaveText([
    'Started',
    'Number',
    'Destination',
    'Length',
    'Status',
    'Price',
  ]);
  await expect(own.locator('[data-amount="0.018000"]').first()).toBeVisible();
  await expect(desk.locator('[data-amount="0.012000"]')).toHaveCount(0);
  await expect(desk.getByRole('combobox', { name: 'Account' })).toHaveCount(0);

  // One customer's calls from its page (no account column: they are all its own).
  await admin.goto(`/customers/${ids.k2}?tab=calls`);
  const k2Calls = admin.getByRole('table', { name: 'Calls' });
  await expect(k2Calls.getByRole('row')).toHaveCount(4);
  await expect(k2Calls.getByRole('columnheader', { name: 'Account' })).toHaveCount(0);
  await expect(admin).toHaveURL(/\?tab=calls$/);

  // One account's calls on the calls page, from the Overview's drill-down: the address
  // names it, the picker shows it by name, a reload keeps it.
  await admin.goto('/');
  await admin.getByRole('button', { name: 'Traffic Reseller: traffic by customer' }).click();
  await admin.getByRole('button', { name: 'Traffic K2: calls' }).click();
  await admin.getByRole('link', { name: 'Search all calls of Traffic K2' }).click();
  await expect(admin).toHaveURL(new RegExp(`/calls\\?account=${ids.k2}$`));
  await expect(admin.getByRole('combobox', { name: 'Account' })).toHaveValue('Traffic K2');
  await expect(table.getByRole('row')).toHaveCount(4);
  await admin.reload();
  await expect(admin.getByRole('combobox', { name: 'Account' })).toHaveValue('Traffic K2');
  await expect(table.getByRole('row')).toHaveCount(4);

  // The reseller's seat, from its own navigation: K1 paid it 0.018, it paid 0.012 — and
  // nothing of what the carrier paid, on screen or in the file.
  const mine = await resellerPage(browser);
  await mine
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Calls' })
    .click();
  const its = mine.getByRole('table', { name: 'Calls' });
  // An account it may not pick in the address (its own: not below it) is ignored, not an
  // error, and leaves the address.
  await mine.goto(`/calls?account=${ids.reseller}`);
  await expect(mine.getByRole('combobox', { name: 'Account' })).toHaveValue('');
  await expect(mine).toHaveURL(/\/calls$/);
  await expect(its).toContainText('Traffic K2');
  const itsRated = its
    .getByRole('row')
    .filter({ hasText: 'Traffic K1' })
    .filter({ hasNotText: 'unrated' });
  await expect(itsRated.first().locator('[data-amount]')).toHaveCount(4);
  expect(
    await itsRated
      .first()
      .locator('[data-amount]')
      .evaluateAll((cells) => cells.map((cell) => cell.getAttribute('data-amount'))),
  ).toEqual(['0.018000', '0.018000', '0.012000', '0.006000']);
  await expect(mine.locator('[data-amount="0.010000"]')).toHaveCount(0);
  const downloading = mine.waitForEvent('download');
  await mine.getByRole('link', { name: 'Export CSV' }).click();
  const file = await readFile((await (await downloading).path())!, 'utf8');
  const [header, ...lines] = file.trim().split('\r\n');
  expect(header).toBe(
    'id,cdrId,startedAt,accountId,account,number,seconds,status,reason,destination,billedSeconds,price,priceCurrency,revenue,revenueCurrency,cost,costCurrency,margin,receivedAt,pricedAt',
  );
  expect(lines.length).toBe((await its.getByRole('row').count()) - 1);
  expect(
    lines.some((line) => line.includes(',0.018000,EUR,0.018000,EUR,0.012000,EUR,0.006000,')),
  ).toBe(true);
  expect(file).not.toContain('0.010000');

  // A call for no account below the carrier is filed under it: in no row of its traffic,
  // but told apart under the tiles (as Needs attention counts it), linking to the calls.
  await call('POST', '/usage', { records: calls('00000000-0000-4000-8000-0000000000e2', 1) });
  await admin.goto('/');
  const unfiled = admin.getByTestId('traffic-unfiled');
  await expect(unfiled).toContainText('1 unrated call in the last hour for no account below');
  await expect(unfiled.getByRole('link', { name: 'see Calls' })).toHaveAttribute(
    'href',
    '/calls?status=unrated',
  );

  // The route of a call no card routed is added, and the call re-rated: charged at the
  // rates of the re-rate, which its row says (the scans below show it to every viewer).
  await call('PATCH', `/cards/${ids.provider}/rates`, {
    upsert: [{ prefix: '99912346', destination: 'Test route', rate: '0.0100' }],
    remove: [],
  });
  const unrated = await call('GET', '/usage?status=unrated&reason=no_route&limit=100');
  const fixable = unrated.items.find((item: { number: string }) => item.number === '99912346');
  await call('POST', '/usage/rerate', { ids: [fixable.id], idempotencyKey: 'e2e-fixed-route-1' });
  await admin.goto('/calls');
  const fixed = admin.getByRole('table', { name: 'Calls' }).getByRole('row').filter({
    hasText: '99912346',
  });
  await expect(fixed).toContainText('rated at the rates of');
});

/** The Overview and the calls page with traffic, both themes: axe-clean, fitting the screen, saved. */
async function scanOverview(page: Page, role: string, width: number): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  await expect(page.getByTestId('traffic-chart-accounts')).toBeVisible();
  await expect(page.getByTestId('traffic-chart-days')).toBeVisible();
  await scanThemes(page, `overview-${role}-${width}`);
  await page.goto('/calls');
  await expect(page.getByRole('table', { name: 'Calls' })).toContainText('Traffic K1');
  await scanThemes(page, `calls-${role}-${width}`);
}

async function scanThemes(page: Page, name: string): Promise<void> {
  for (const theme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: theme });
    await expect
      .poll(() => page.evaluate(() => document.documentElement.classList.contains('dark')))
      .toBe(theme === 'dark');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow, `${name} runs off the side`).toBeLessThanOrEqual(0);
    await saveScreenshot(page, `test-results/traffic/${name}-${theme}.png`);
    expect(await seriousViolations(page), `axe: ${name}, ${theme}`).toEqual([]);
  }
}

// Four scans of a long page per viewer (two widths, two themes): minutes on a busy machine.
for (const viewer of ['carrier-admin', 'reseller'] as const) {
  test(`the dashboard with traffic is accessible in both themes: ${viewer}`, async ({
    browser,
  }) => {
    test.setTimeout(300_000);
    for (const width of [1280, 768]) {
      const page =
        viewer === 'carrier-admin'
          ? await adminPage(browser, '/', { width, height: 900 })
          : await resellerPage(browser, width);
      await scanOverview(page, viewer, width);
    }
  });
}

test('the dashboard with traffic is accessible in both themes: support viewing as the reseller', async ({
  browser,
  request,
}) => {
  test.setTimeout(300_000);
  const call = await api(request);
  // Support: a carrier user who may view as others, and reads what it needs to find them.
  const support = await call('POST', '/groups', {
    name: 'E2E traffic support',
    grants: ['users:read', 'resellers:read', 'customers:read', 'impersonation:start'],
  });
  const me = await call('GET', '/me');
  await call('POST', '/users', {
    email: SUPPORT.email,
    password: SUPPORT.password,
    accountId: me.account.id,
    groupId: support.id,
  });
  // Support views the panel as the reseller's user: the reseller's dashboard, read-only.
  const supportToken = (
    await (
      await request.post('/api/v1/auth/token', { data: { ...SUPPORT, name: 'e2e support' } })
    ).json()
  ).token as string;
  const asSupport = { authorization: `Bearer ${supportToken}` };
  try {
    for (const width of [1280, 768]) {
      const page = await (await browser.newContext({ viewport: { width, height: 900 } })).newPage();
      // Signed in and viewing as the reseller's user from this session, support sees the
      // panel as that user sees it (header included).
      await signIn(page, SUPPORT.email, SUPPORT.password);
      await viewAsFromPage(page, ids.resellerUser, 'E2E: traffic dashboard screenshots');
      await expect(page.getByTestId('impersonation-banner')).toContainText(
        `Viewing as ${RESELLER.email}`,
      );
      await expect(page.getByTestId(`traffic-row-${ids.k1}`)).toBeVisible();
      await scanOverview(page, 'support-as-reseller', width);
    }
  } finally {
    await request.fetch('/api/v1/impersonation', { method: 'DELETE', headers: asSupport });
  }
});

test('the overview says what it could not read, with Retry, never that nobody owes', async ({
  browser,
}) => {
  const context = await browser.newContext({
    storageState: adminState(),
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  // The counters, what needs attention and the largest debts all fail to read.
  await page.route(/\/api\/v1\/dashboard(\/attention)?(\?|$)/, (route) =>
    route.fulfill({ status: 503, body: '{"error":{"code":"unavailable","message":"down"}}' }),
  );
  await page.route(/\/api\/v1\/dashboard\/exposure\?.*sort=balance/, (route) =>
    route.fulfill({ status: 503, body: '{"error":{"code":"unavailable","message":"down"}}' }),
  );
  await page.goto('/');
  await expect(
    page.getByRole('alert').filter({ hasText: 'The counters could not be read.' }),
  ).toBeVisible();
  await expect(
    page.getByRole('alert').filter({ hasText: 'What needs attention could not be read.' }),
  ).toBeVisible();
  await expect(page.getByText('The largest debts could not be read.')).toBeVisible();
  await expect(page.getByText('No account below owes anything.')).toHaveCount(0);
  await expect(page.getByTestId('count-customers')).toHaveText('—');
  // Back, Retry reads them.
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page
    .getByRole('alert')
    .filter({ hasText: 'The counters could not be read.' })
    .getByRole('button', { name: 'Retry' })
    .click();
  await expect(page.getByTestId('count-customers')).not.toHaveText(/^(—|…)$/);
  await context.close();
});
