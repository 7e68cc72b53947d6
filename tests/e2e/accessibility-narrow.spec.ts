import { expect, test } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminApi, adminPage, signIn } from '../fixtures/e2e-sign-in';
import {
  ADMIN_VIEWS,
  checkView,
  expectAccessible,
  prepareAccessibility,
  RESELLER,
  RESELLER_VIEWS,
  resellerState,
  THEMES,
  wear,
  worn,
} from '../fixtures/e2e-accessibility';
import { saveScreenshot } from '../fixtures/e2e-screenshot';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * Accessibility and the look of every page at 768 px and as a reseller user (issue 15,
 * item 8; the wide admin pass is accessibility.spec.ts, in another lane), and the theme
 * toggle, the skip link and the view-as banner.
 */

test.describe('accessibility and themes, narrow and as a reseller', () => {
  test.describe.configure({ timeout: 180_000 });

  test.beforeAll(async ({ playwright, browser }) => {
    await prepareAccessibility({ playwright, browser }, true);
  });

  test.afterEach(async ({ browser }) => {
    await closeContexts(browser.contexts());
  });

  // Layout at 768 px and the reseller's own view: every page scanned once (colour contrast
  // does not change with the width or the viewer: the wide pass scanned both themes), and
  // photographed in both themes; the reseller's details opened. One test per pass: a
  // test per page would load the Overview again for each (measured slower in CI).
  test('every page as the carrier admin at 768 px', async ({ browser }) => {
    test.setTimeout(300_000);
    const page = await adminPage(browser, '/', { width: 768, height: 900 });
    for (const view of ADMIN_VIEWS) {
      await checkView(page, view, 'admin', 768, { axe: ['light'], shots: THEMES, details: false });
    }
    // The header wraps whole items onto a second row: no name, email or link is broken
    // over two lines (the email used to break at its hyphen: e2e-admin@demo- / carrier.test).
    await page.goto('/');
    const header = page.locator('header', { has: page.getByTestId('signed-in-user') });
    await expect(header).toBeVisible();
    const lines = await header
      .locator('[data-testid^="signed-in-"] > div, a')
      .evaluateAll((elements) =>
        elements.map((element) => {
          const range = document.createRange();
          range.selectNodeContents(element);
          const tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
          return `${element.textContent}: ${tops.size}`;
        }),
      );
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect(lines.filter((line) => !line.endsWith(': 1'))).toEqual([]);
  });

  test('every page and what opens on it, as a reseller user at 1280 px', async ({ browser }) => {
    test.setTimeout(300_000);
    const context = await browser.newContext({
      storageState: resellerState(),
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    for (const view of RESELLER_VIEWS) {
      await checkView(page, view, 'reseller', 1280, {
        axe: ['light'],
        shots: THEMES,
        details: true,
      });
    }
    // Its own statements, which it may read but not issue, take the row's whole width
    // (they sat in a two-column grid's first column beside nothing).
    await page.goto('/');
    const statements = page.getByRole('region', { name: /^Statements of / });
    const activity = page.getByRole('region', { name: 'Recent activity' });
    await expect(statements).toBeVisible();
    const [own, full] = await Promise.all([statements.boundingBox(), activity.boundingBox()]);
    expect(own?.width).toBeCloseTo(full?.width ?? 0, 0);
  });
});

test.describe('theme toggle, skip link, view-as banner', () => {
  test.afterEach(async ({ browser }) => {
    await closeContexts(browser.contexts());
  });

  test('the theme toggle pins light or dark, applied before any script of the app runs', async ({
    browser,
  }) => {
    const page = await adminPage(browser);
    await page.emulateMedia({ colorScheme: 'light' });
    const theme = page.getByLabel('Theme');
    await expect(theme).toHaveValue('system');
    expect((await worn(page)).dark).toBe(false);
    const light = (await worn(page)).background;

    await theme.selectOption('dark');
    await expect.poll(async () => (await worn(page)).dark).toBe(true);
    expect((await worn(page)).background).not.toBe(light);

    // Reload with every script of the app refused: only the inline <head> script can
    // have put the stored theme on the page, so it is there before the first paint.
    await page.route('**/_next/static/**/*.js', (route) => route.abort());
    await page.reload();
    const booted = await worn(page);
    expect(booted.dark).toBe(true);
    expect(booted.background).not.toBe(light);
    await page.unroute('**/_next/static/**/*.js');
    await page.reload();
    await expect(page.getByLabel('Theme')).toHaveValue('dark');

    // 'Light' holds against a dark system; 'System' follows it again, live.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByLabel('Theme').selectOption('light');
    await expect.poll(async () => (await worn(page)).dark).toBe(false);
    await page.getByLabel('Theme').selectOption('system');
    await expect.poll(async () => (await worn(page)).dark).toBe(true);
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(async () => (await worn(page)).dark).toBe(false);
  });

  test('"Skip to content" is the first stop of Tab, shown on focus, and lands in main', async ({
    browser,
  }) => {
    const page = await adminPage(browser, '/users');
    await expect(page.getByRole('table', { name: 'Users' })).toBeVisible();
    const skip = page.getByRole('link', { name: 'Skip to content' });
    expect((await skip.boundingBox())?.width ?? 0).toBeLessThanOrEqual(1);
    await page.locator('body').focus();
    await page.keyboard.press('Tab');
    await expect(skip).toBeFocused();
    expect((await skip.boundingBox())?.width ?? 0).toBeGreaterThan(40);
    await page.keyboard.press('Enter');
    await expect(page.locator('main#content')).toBeFocused();
  });

  test('the view-as banner stays on screen while the page scrolls', async ({
    browser,
    request,
  }) => {
    const { headers } = await adminApi(request, 'e2e banner');
    const users = await (
      await request.get(`/api/v1/users?q=${encodeURIComponent(RESELLER.email)}`, { headers })
    ).json();
    const target = users.items.find((user: { email: string }) => user.email === RESELLER.email);
    expect(target, 'the reseller user of this file').toBeTruthy();
    // Its own sign-in: the view belongs to that session, never to the shared admin one.
    const context = await browser.newContext({ viewport: { width: 768, height: 600 } });
    const page = await context.newPage();
    await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
    // Straight to the user's Manage tab by its URL: a click on the Users list while the
    // page was still hydrating on a loaded machine once went nowhere.
    await page.goto(`/users/${target.id}?tab=manage`);
    const viewAs = page.getByRole('form', { name: 'View as this user' });
    await viewAs
      .getByLabel('Why (recorded in the audit log)')
      .fill('Checking the banner stays in view');
    await viewAs.getByRole('button', { name: `View as ${RESELLER.email}` }).click();
    const banner = page.getByTestId('impersonation-banner');
    await expect(banner).toBeVisible();
    try {
      await page.goto('/audit');
      await expect(page.getByRole('table', { name: 'Audit log' })).toBeVisible();
      await expectAccessible(page, '/audit while viewing as a reseller user');
      const scrollable = await page.evaluate(
        () => document.documentElement.scrollHeight - window.innerHeight,
      );
      expect(scrollable, 'the page is long enough to scroll').toBeGreaterThan(200);
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(200);
      const box = await banner.boundingBox();
      expect(box?.y, 'the banner is at the top of the viewport').toBe(0);
      await expect(banner.getByRole('button', { name: 'Stop viewing' })).toBeInViewport();
      for (const theme of THEMES) {
        await wear(page, theme);
        await saveScreenshot(page, `test-results/pages/view-as-scrolled-admin-768-${theme}.png`, {
          fullPage: false,
        });
      }
      await expectAccessible(page, '/audit while viewing as a reseller user, scrolled, dark');
    } finally {
      await banner.getByRole('button', { name: 'Stop viewing' }).click();
      await expect(banner).toHaveCount(0);
    }
  });
});
