import { expect, test, type Browser, type Page } from '@playwright/test';
import { adminApi, adminState } from '../fixtures/e2e-sign-in';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * What a page load asks for (docs/bench.md, twenty-second session): links are prefetched
 * when someone may follow them, not for being on screen (components/ui/panel-link.tsx) —
 * a page of records used to ask the server for every section in the navigation and every
 * record in view, which cost the server more per page view than the page itself; and the
 * Overview fetches its charts' code only when it has calls to draw.
 */
test.afterEach(async ({ browser }) => {
  await closeContexts(browser.contexts());
});

/** The e2e admin's page with nothing loaded yet: what watches it is set up before the first load. */
async function blankAdminPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({
    storageState: adminState(),
    viewport: { width: 1280, height: 900 },
  });
  return context.newPage();
}

test('a link is prefetched on pointer or focus, never for being on screen, and still leads where it says', async ({
  browser,
}) => {
  const page = await blankAdminPage(browser);
  // Every prefetch the page sends, by the path it prefetches (Next marks each one).
  const prefetched: string[] = [];
  page.on('request', (request) => {
    if (request.headers()['next-router-prefetch']) prefetched.push(new URL(request.url()).pathname);
  });

  await page.goto('/resellers');
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  const records = page.getByRole('table', { name: 'Resellers' }).getByRole('link');
  await expect(records.first()).toBeVisible();
  expect(await records.count(), 'records on screen to be prefetched').toBeGreaterThan(1);
  // Loaded and settled: Next sent its prefetches for what is on screen within a second of
  // loading, when it did (26 of them here). A late one would still be caught below, where
  // the prefetches after a hover must be that one link's alone.
  await page.waitForLoadState('networkidle');
  expect(prefetched, 'nothing prefetched for being on screen').toEqual([]);

  // The pointer over a record: that record, and only it.
  const record = records.first();
  const href = (await record.getAttribute('href'))!;
  expect(href).toMatch(/^\/resellers\/[0-9a-f-]{36}$/);
  await record.hover();
  await expect.poll(() => prefetched).toContain(href);
  expect([...new Set(prefetched)]).toEqual([href]);

  // The keyboard on a section of the navigation: that section.
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Users' })
    .focus();
  await expect.poll(() => prefetched).toContain('/users');
  expect([...new Set(prefetched)].sort()).toEqual([href, '/users'].sort());

  // And the link still goes where it says, client-side.
  const name = (await record.textContent())!;
  await record.click();
  await expect(page).toHaveURL(href);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(name);
});

/**
 * The scripts the page has loaded that hold recharts (the traffic charts' code), once
 * every script answered so far has been read through.
 */
function watchChartScripts(page: Page): () => Promise<string[]> {
  const reads: Promise<string | null>[] = [];
  page.on('response', (response) => {
    if (response.request().resourceType() !== 'script') return;
    reads.push(
      response
        .text()
        .then((body) => (body.includes('recharts') ? new URL(response.url()).pathname : null))
        .catch(() => null),
    );
  });
  return async () => (await Promise.all(reads)).filter((path) => path !== null);
}

test("the Overview fetches the charts' code only once it has calls to draw, and draws them live", async ({
  browser,
  request,
}) => {
  const page = await blankAdminPage(browser);
  const chartScripts = watchChartScripts(page);
  await page.goto('/');
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  // This lane's carrier has had no calls: nothing to draw.
  await expect(page.getByText('No traffic yet', { exact: false })).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(await chartScripts(), 'no chart code without calls').toEqual([]);

  // The first calls arrive: the charts' code is fetched then, and they draw, live.
  const { headers } = await adminApi(request, 'e2e page load');
  const hotel = (
    await (await request.get('/api/v1/customers?q=Hotel%20Alpine', { headers })).json()
  ).items[0] as { id: string };
  const posted = await request.post('/api/v1/usage', {
    headers,
    data: {
      records: [1, 2].map((n) => ({
        id: `e2e-page-load-${Date.now()}-${n}`,
        accountId: hotel.id,
        number: '441481700123',
        // Now: the lane's cards were priced when its server started, moments ago.
        startedAt: new Date().toISOString(),
        seconds: 60,
      })),
    },
  });
  expect(posted.status(), await posted.text()).toBe(200);
  expect((await posted.json()).rated).toBe(2);
  await expect(page.getByTestId('traffic-chart-accounts')).toBeVisible();
  await expect(page.getByTestId('traffic-chart-days')).toBeVisible();
  expect(await chartScripts()).toHaveLength(1);
});

test('the sign-in page and a signed-in page ask for nothing that fails, and the tab shows the panel’s icon', async ({
  browser,
}) => {
  // Without an icon of its own the browser asked for /favicon.ico on every page: a 404
  // in every operator's console, and a blank tab among the others.
  const failed: string[] = [];
  const watch = (page: Page) =>
    page.on('response', (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });

  const signedOut = await (await browser.newContext()).newPage();
  watch(signedOut);
  await signedOut.goto('/login');
  await expect(signedOut.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await signedOut.waitForLoadState('networkidle');

  const page = await blankAdminPage(browser);
  watch(page);
  await page.goto('/');
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  await page.waitForLoadState('networkidle');
  expect(failed).toEqual([]);

  for (const tab of [signedOut, page]) {
    const href = await tab.locator('link[rel="icon"]').getAttribute('href');
    expect(href, 'the page names its icon').toBeTruthy();
    const icon = await tab.request.get(new URL(href!, tab.url()).toString());
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toMatch(/^image\/svg\+xml/);
    expect(await icon.text()).toContain('<svg');
  }
});

test('a page that is not there keeps the chosen theme', async ({ browser }) => {
  const context = await browser.newContext({ storageState: adminState(), colorScheme: 'light' });
  await context.addInitScript(() => localStorage.setItem('reseller-panel-theme', 'dark'));
  const page = await context.newPage();
  for (const path of ['/', '/no-such-page', '/customers/00000000-0000-4000-8000-000000000000']) {
    await page.goto(path);
    await expect(page.locator('html'), path).toHaveClass(/\bdark\b/);
  }
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
