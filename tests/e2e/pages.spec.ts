import { expect, test, type Page } from '@playwright/test';
import { adminPage } from '../fixtures/e2e-sign-in';

/**
 * Every main page of the panel, as the carrier admin sees it on the demo data, at a
 * desktop width (1280) and a tablet width (768): each shows its content, nothing runs
 * off the side of the screen (wide tables scroll inside their own box), and a
 * screenshot of each is saved under test-results/pages/ for people to look at.
 */
const WIDTHS = [
  { name: 'desktop', width: 1280, height: 900 },
  { name: 'tablet', width: 768, height: 1024 },
] as const;

const PAGES: { path: string; name: string; ready: (page: Page) => Promise<void> }[] = [
  {
    path: '/',
    name: 'overview',
    ready: async (page) => {
      await expect(page.getByTestId('count-resellers')).toHaveText(/^\d+$/);
      await expect(page.getByRole('table', { name: 'Recent activity' })).toBeVisible();
    },
  },
  {
    path: '/resellers',
    name: 'resellers',
    ready: (page) => expect(page.getByRole('table', { name: 'Resellers' })).toBeVisible(),
  },
  {
    path: '/resellers',
    name: 'reseller-record',
    ready: async (page) => {
      // The list, then a reseller's own page from its row: its sections include its users.
      await page
        .getByRole('table', { name: 'Resellers' })
        .getByRole('link', { name: 'Acme Voice', exact: true })
        .click();
      await expect(page.getByRole('heading', { level: 1, name: 'Acme Voice' })).toBeVisible();
      await expect(page.getByRole('navigation', { name: 'Reseller sections' })).toContainText(
        'Users',
      );
    },
  },
  {
    path: '/customers',
    name: 'customers',
    ready: (page) => expect(page.getByRole('table', { name: 'Customers' })).toBeVisible(),
  },
  {
    path: '/users',
    name: 'users',
    ready: (page) => expect(page.getByRole('table', { name: 'Users' })).toBeVisible(),
  },
  {
    path: '/groups',
    name: 'groups',
    ready: async (page) => {
      await expect(page.getByRole('table', { name: 'Groups' })).toBeVisible();
      await page.getByLabel('User', { exact: true }).selectOption({ index: 1 });
      const access = page.getByTestId('user-access');
      await expect(access.getByLabel('resellers:read: yes')).toBeVisible();
      await expect(access.getByRole('region', { name: /^Resellers \(\d+\)$/ })).toContainText(
        'Acme Voice',
      );
    },
  },
  {
    path: '/cards',
    name: 'cards',
    ready: (page) =>
      expect(
        page
          .getByRole('table', { name: 'Customer cards' })
          .getByRole('link', { name: 'Carrier Retail', exact: true }),
      ).toBeVisible(),
  },
  {
    path: '/cards',
    name: 'card-record',
    ready: async (page) => {
      await page
        .getByRole('table', { name: 'Customer cards' })
        .getByRole('link', { name: 'Carrier Retail', exact: true })
        .click();
      await expect(page.getByRole('heading', { level: 1, name: 'Carrier Retail' })).toBeVisible();
      await expect(page.getByTestId('card-rate-count')).toHaveText(/^[1-9]\d*$/);
      await expect(page.getByRole('table', { name: 'Rates' })).toContainText('Guernsey');
    },
  },
  {
    path: '/trace',
    name: 'price-trace',
    ready: async (page) => {
      await page.getByLabel('Dialled number').fill('+44 1481 700123');
      await page.getByRole('button', { name: 'Trace' }).click();
      await expect(page.getByRole('table', { name: 'Chain of Carrier Retail' })).toContainText(
        '441481',
      );
    },
  },
  {
    path: '/audit',
    name: 'audit-log',
    ready: (page) => expect(page.getByRole('table', { name: 'Audit log' })).toBeVisible(),
  },
];

// A live admin page left open refetches on every later change and slows later specs.
test.afterEach(async ({ browser }) => {
  await Promise.all(browser.contexts().map((context) => context.close()));
});

for (const size of WIDTHS) {
  test(`every main page at ${size.width} px shows its content and fits the screen`, async ({
    browser,
  }) => {
    const page = await adminPage(browser, '/', { width: size.width, height: size.height });
    for (const panelPage of PAGES) {
      await page.goto(panelPage.path);
      await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
      await panelPage.ready(page);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `${panelPage.name} runs ${overflow} px off the side`).toBeLessThanOrEqual(0);
      await page.screenshot({
        path: `test-results/pages/${panelPage.name}-${size.name}.png`,
        fullPage: true,
      });
    }
  });
}
