import { expect, test } from '@playwright/test';
import { adminState } from '../fixtures/e2e-sign-in';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * Links are prefetched when someone may follow them, not for being on screen
 * (components/ui/panel-link.tsx): a page of records used to ask the server for every
 * section in the navigation and every record in view as it loaded, which cost the server
 * more per page view than the page itself (docs/bench.md, twenty-second session).
 */
test.afterEach(async ({ browser }) => {
  await closeContexts(browser.contexts());
});

test('a link is prefetched on pointer or focus, never for being on screen, and still leads where it says', async ({
  browser,
}) => {
  const context = await browser.newContext({
    storageState: adminState(),
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
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
