import { expect, test, type Page } from '@playwright/test';
import { adminPage } from '../fixtures/e2e-sign-in';
import {
  ADMIN_VIEWS,
  checkView,
  FULL,
  OVERVIEW,
  prepareAccessibility,
  seriousViolations,
} from '../fixtures/e2e-accessibility';

/**
 * Accessibility and the look of every page, the wide admin pass (issue 15, item 8): each
 * page as the carrier admin at 1280 px, scanned by axe and photographed in the light and
 * the dark theme, and every detail or form that opens on it opened and scanned. The
 * narrow, reseller and theme checks are accessibility-narrow.spec.ts, in another lane.
 */

test.describe('accessibility and themes, the wide admin pass', () => {
  // One page, its details, both themes, an axe scan each: a minute or more on 2 cores.
  test.describe.configure({ timeout: 180_000 });

  // One signed-in page for the whole pass: a context per test cost a new renderer and a
  // cold cache (every script of the app fetched and compiled again) before each page.
  // Each test loads its own page on it; a worker restarted after a failure opens it anew.
  let page: Page;
  test.beforeAll(async ({ playwright, browser }) => {
    await prepareAccessibility({ playwright, browser }, false);
    page = await adminPage(browser, '/', { width: 1280, height: 900 });
  });

  test.afterAll(async () => {
    await page?.context().close();
  });

  // The wide admin pass, one test per page: every theme scanned, every detail opened.
  for (const view of ADMIN_VIEWS) {
    test(`${view.name} and what opens on it, as the carrier admin at 1280 px`, async () => {
      await checkView(page, view, 'admin', 1280, FULL);
    });
  }

  // Every pass above trusts an empty list: the scan must be able to fail. Faults planted
  // in a page are found when axe is first sent to the document, gone once removed, and
  // found again by the axe already there (it is sent once per document).
  test('the scan finds faults planted in a page, and sees them go', async () => {
    await page.goto(OVERVIEW.path);
    await OVERVIEW.ready(page);
    const plant = () =>
      page
        .locator('main#content')
        .evaluate((main) =>
          main.insertAdjacentHTML(
            'beforeend',
            '<div id="planted"><button id="planted-nameless"></button>' +
              '<p id="planted-faint" style="color:#ddd;background:#fff">faint</p></div>',
          ),
        );
    const planted = [
      expect.stringMatching(/^button-name \(critical\): .*#planted-nameless/),
      expect.stringMatching(/^color-contrast \(serious\): .*#planted-faint/),
    ];
    await plant();
    expect(await seriousViolations(page)).toEqual(planted);
    await page.locator('#planted').evaluate((element) => element.remove());
    expect(await seriousViolations(page)).toEqual([]);
    await plant();
    expect(await seriousViolations(page)).toEqual(planted);
  });
});
