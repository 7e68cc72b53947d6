import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminApi, adminPage, signIn } from '../fixtures/e2e-sign-in';

/**
 * Accessibility and the look of every page (issue 15, item 8 and its Proof): an axe scan
 * (WCAG 2 A/AA) of every page and every detail or form that opens on it, as the carrier
 * admin at 1280 and 768 px and as a reseller user, in the light and the dark theme — no
 * serious or critical violation may remain. Each page has one <h1> and its own title,
 * wears the theme asked for, fits the screen (nothing runs off the side: wide tables
 * scroll inside their own box), and is saved as
 * test-results/pages/<page>-<role>-<width>-<theme>.png for people to look at.
 */

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const THEMES = ['light', 'dark'] as const;
type TThemeName = (typeof THEMES)[number];

/** A reseller user of Acme Voice, created through the API for this file. */
const RESELLER = { email: 'a11y@acme-voice.test', password: 'e2e-a11y-password' };

interface TDetail {
  name: string;
  open: (page: Page) => Promise<void>;
}
interface TView {
  path: string;
  name: string;
  title: string;
  /** The page's content has loaded. */
  ready: (page: Page) => Promise<void>;
  /** What opens on the page (a detail, an edit form, a result), each scanned opened. */
  details?: TDetail[];
}

const table = (name: string) => (page: Page) =>
  expect(page.getByRole('table', { name, exact: true })).toBeVisible();

const OVERVIEW: TView = {
  path: '/',
  name: 'overview',
  title: 'Overview',
  ready: async (page) => {
    await expect(page.getByTestId('count-resellers')).toHaveText(/^\d+$/);
    await expect(page.getByRole('table', { name: 'Recent activity' })).toBeVisible();
  },
  details: [
    {
      name: 'notifications',
      open: async (page) => {
        await page.getByTestId('notification-bell').click();
        await expect(page.getByRole('region', { name: 'Notifications' })).toBeVisible();
      },
    },
  ],
};
const AUDIT: TView = {
  path: '/audit',
  name: 'audit-log',
  title: 'Audit log',
  ready: table('Audit log'),
};
const TRACE: TView = {
  path: '/trace',
  name: 'price-trace',
  title: 'Price trace',
  ready: (page) => expect(page.getByLabel('Dialled number')).toBeVisible(),
  details: [
    {
      name: 'chain',
      open: async (page) => {
        await page.getByLabel('Dialled number').fill('+44 1481 700123');
        await page.getByRole('button', { name: 'Trace' }).click();
        await expect(page.getByRole('table', { name: /^Chain of / }).first()).toBeVisible();
      },
    },
  ],
};
const SECURITY: TView = {
  path: '/account/security',
  name: 'account-security',
  title: 'Account security',
  ready: (page) => expect(page.getByTestId('mfa-state')).toBeVisible(),
};

/** Record ids, looked up through the API once (beforeAll): the record pages' paths. */
const ids = { acme: '', acmeEast: '', hotel: '', retail: '', resellerUser: '' };

/** A record page: its heading names the record, its tabs are links. */
const record = (
  name: string,
  path: () => string,
  title: string,
  heading: string,
  details: TDetail[] = [],
  /** What else shows the record loaded, once its heading is there. */
  loaded?: (page: Page) => Promise<void>,
): TView => ({
  get path() {
    return path();
  },
  name,
  // A record's tab names the record first: "Acme Voice · Reseller".
  title: `${heading} · ${title}`,
  ready: async (page) => {
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await loaded?.(page);
  },
  details,
});
const tab = (label: string, ready: (page: Page) => Promise<void>): TDetail => ({
  name: label.toLowerCase(),
  open: async (page) => {
    await page
      .getByRole('navigation', { name: /sections$/ })
      .getByRole('link', { name: label, exact: true })
      .click();
    await ready(page);
  },
});

const ADMIN_VIEWS: TView[] = [
  OVERVIEW,
  { path: '/resellers', name: 'resellers', title: 'Resellers', ready: table('Resellers') },
  record('reseller-record', () => `/resellers/${ids.acme}`, 'Reseller', 'Acme Voice', [
    tab('Users', table('Users of Acme Voice')),
    tab('Balance', (page) =>
      expect(page.getByRole('form', { name: 'Record payment' })).toBeVisible(),
    ),
  ]),
  { path: '/customers', name: 'customers', title: 'Customers', ready: table('Customers') },
  record('customer-record', () => `/customers/${ids.hotel}`, 'Customer', 'Hotel Alpine', [
    tab('Balance', (page) =>
      expect(page.getByRole('form', { name: 'Record payment' })).toBeVisible(),
    ),
    tab('Statements', (page) =>
      expect(page.getByRole('form', { name: 'Issue statement' })).toBeVisible(),
    ),
  ]),
  { path: '/users', name: 'users', title: 'Users', ready: table('Users') },
  record('user-record', () => `/users/${ids.resellerUser}`, 'User', RESELLER.email, [
    tab('Manage', (page) =>
      expect(page.getByRole('form', { name: 'View as this user' })).toBeVisible(),
    ),
  ]),
  {
    path: '/groups',
    name: 'groups',
    title: 'Groups',
    ready: table('Groups'),
    details: [
      {
        name: 'default-reseller',
        open: async (page) => {
          await page.getByRole('button', { name: 'Create Default Reseller' }).click();
          await expect(page.getByLabel('Name of the new group')).toBeFocused();
        },
      },
      {
        name: 'edit',
        open: async (page) => {
          await page.getByRole('button', { name: 'Edit Default Reseller', exact: true }).click();
          await expect(
            page.getByRole('form', { name: 'Edit group Default Reseller', exact: true }),
          ).toBeVisible();
        },
      },
      {
        name: 'access',
        open: async (page) => {
          // The user picker is searched on the server: type, then take the match.
          const picker = page.getByRole('combobox', { name: 'User', exact: true });
          await picker.fill(RESELLER.email);
          await page
            .locator(`#${await picker.getAttribute('aria-controls')}`)
            .getByRole('option', { name: new RegExp(`^${RESELLER.email.replace('.', '\\.')}`) })
            .click();
          await expect(
            page.getByTestId('user-access').getByRole('region', { name: /^Resellers \(\d+\)$/ }),
          ).toBeVisible();
        },
      },
    ],
  },
  { path: '/cards', name: 'cards', title: 'Rate cards', ready: table('Provider cards') },
  record(
    'card-record',
    () => `/cards/${ids.retail}`,
    'Card',
    'Carrier Retail',
    [tab('Revisions', table('Revisions'))],
    async (page) => {
      await expect(page.getByTestId('card-rate-count')).toHaveText(/^[1-9]\d*$/);
      await expect(page.getByRole('table', { name: 'Rates' })).toContainText('Guernsey');
    },
  ),
  TRACE,
  AUDIT,
  SECURITY,
];

const RESELLER_VIEWS: TView[] = [
  OVERVIEW,
  { path: '/resellers', name: 'resellers', title: 'Resellers', ready: table('Resellers') },
  record('reseller-record', () => `/resellers/${ids.acmeEast}`, 'Reseller', 'Acme East'),
  { path: '/customers', name: 'customers', title: 'Customers', ready: table('Customers') },
  record('customer-record', () => `/customers/${ids.hotel}`, 'Customer', 'Hotel Alpine'),
  { path: '/users', name: 'users', title: 'Users', ready: table('Users') },
  { path: '/groups', name: 'groups', title: 'Groups', ready: table('Groups') },
  { path: '/cards', name: 'cards', title: 'Rate cards', ready: table('Provider cards') },
  record('card-record', () => `/cards/${ids.retail}`, 'Card', 'Carrier Retail'),
  TRACE,
  AUDIT,
  {
    ...SECURITY,
    details: [
      {
        name: 'enrol',
        open: async (page) => {
          await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
          await expect(page.getByRole('form', { name: 'Confirm MFA' })).toBeVisible();
        },
      },
    ],
  },
];

/** Serious and critical axe findings on what the page shows now, one line each. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    // Experimental in axe 4.13, so off unless asked for; it is the "Access" finding
    // (a control's name must contain its visible text, WCAG 2.5.3). Before withTags:
    // options() replaces what withTags sets.
    .options({ rules: { 'label-content-name-mismatch': { enabled: true } } })
    .withTags(WCAG_TAGS)
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} — ${violation.nodes
          .map((node) => node.target.join(' '))
          .join(', ')}`,
    );
}

async function expectAccessible(page: Page, where: string): Promise<void> {
  expect(await seriousViolations(page), `axe on ${where}`).toEqual([]);
}

/** Nothing runs off the side of the screen: the page never scrolls sideways. */
async function expectFits(page: Page, where: string): Promise<void> {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, `${where} runs ${overflow} px off the side`).toBeLessThanOrEqual(0);
}

/** The theme the page wears: the class on <html> and the body's computed background. */
async function worn(page: Page) {
  return page.evaluate(() => ({
    dark: document.documentElement.classList.contains('dark'),
    background: getComputedStyle(document.body).backgroundColor,
  }));
}

/** Switches the system preference; the panel follows it (no stored choice: 'system'). */
async function wear(page: Page, theme: TThemeName): Promise<void> {
  await page.emulateMedia({ colorScheme: theme });
  await expect.poll(async () => (await worn(page)).dark).toBe(theme === 'dark');
}

/** What to do on one view: which themes get an axe scan, which a screenshot, and whether its details are opened. */
interface TPass {
  axe: readonly TThemeName[];
  shots: readonly TThemeName[];
  details: boolean;
}
/** The wide admin pass: everything in both themes, details opened. */
const FULL: TPass = { axe: THEMES, shots: THEMES, details: true };

/**
 * One page: its <h1> and title, the theme applied (the body's colour differs between the
 * two), a screenshot and an axe scan per theme asked for; then each of its details, opened
 * on a fresh load and scanned in the dark theme (its colours are the page's; the light
 * ones were scanned with the page).
 */
async function checkView(
  page: Page,
  view: TView,
  role: string,
  width: number,
  pass: TPass,
): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(view.path);
  await expect(
    page.getByTestId('mfa-state').or(page.getByTestId('connection-indicator')),
  ).toBeVisible();
  if (view.path !== SECURITY.path) {
    await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  }
  await view.ready(page);
  await expect(page).toHaveTitle(`${view.title} · Reseller Panel`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expectFits(page, `${view.path} as ${role} at ${width} px`);

  const backgrounds: Partial<Record<TThemeName, string>> = {};
  for (const theme of THEMES) {
    if (!pass.axe.includes(theme) && !pass.shots.includes(theme)) continue;
    await wear(page, theme);
    backgrounds[theme] = (await worn(page)).background;
    if (pass.shots.includes(theme)) {
      await page.screenshot({
        path: `test-results/pages/${view.name}-${role}-${width}-${theme}.png`,
        fullPage: true,
      });
    }
    if (pass.axe.includes(theme)) {
      await expectAccessible(page, `${view.path} as ${role} at ${width} px, ${theme}`);
    }
  }
  if (backgrounds.light && backgrounds.dark) {
    expect(backgrounds.dark, `${view.path}: the dark theme changes the page`).not.toBe(
      backgrounds.light,
    );
  }

  for (const detail of pass.details ? (view.details ?? []) : []) {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(view.path);
    await view.ready(page);
    await detail.open(page);
    await expectFits(page, `${view.path} (${detail.name} open) as ${role} at ${width} px`);
    await wear(page, 'dark');
    await expectAccessible(
      page,
      `${view.path} (${detail.name} open) as ${role} at ${width} px, dark`,
    );
    await page.screenshot({
      path: `test-results/pages/${view.name}-${detail.name}-${role}-${width}-dark.png`,
      fullPage: true,
    });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Where this file keeps the reseller user's signed-in browser state (signed in once). */
const RESELLER_STATE = 'test-results/.auth/a11y-reseller.json';

test.describe('accessibility and themes', () => {
  // One page, its details, both themes, an axe scan each: a minute or more on 2 cores.
  test.describe.configure({ timeout: 180_000 });

  test.beforeAll(async ({ playwright, browser }) => {
    const request = await playwright.request.newContext({
      baseURL: test.info().project.use.baseURL,
    });
    const { headers } = await adminApi(request, 'e2e accessibility');
    const api = async (method: string, path: string, data?: unknown) => {
      const response = await request.fetch(`/api/v1${path}`, { method, headers, data });
      expect(response.status(), `${method} ${path}`).toBeLessThan(300);
      return response.json();
    };
    // A worker restarted after a failure finds the user already there.
    const existing = await api('GET', `/users?q=${encodeURIComponent(RESELLER.email)}`);
    if (!existing.items.some((user: { email: string }) => user.email === RESELLER.email)) {
      const acme = (await api('GET', `/resellers?q=${encodeURIComponent('Acme Voice')}`)).items[0];
      const group = await api('POST', '/groups', {
        template: 'default-reseller',
        name: 'E2E accessibility',
        accountId: acme.id,
      });
      await api('POST', '/users', { ...RESELLER, accountId: acme.id, groupId: group.id });
    }
    const first = async (path: string) => (await api('GET', path)).items[0].id as string;
    ids.acme = await first(`/resellers?q=${encodeURIComponent('Acme Voice')}`);
    ids.acmeEast = await first(`/resellers?q=${encodeURIComponent('Acme East')}`);
    ids.hotel = await first(`/customers?q=${encodeURIComponent('Hotel Alpine')}`);
    ids.retail = await first(`/cards?q=${encodeURIComponent('Carrier Retail')}`);
    ids.resellerUser = await first(`/users?q=${encodeURIComponent(RESELLER.email)}`);
    await request.dispose();
    const context = await browser.newContext();
    await signIn(await context.newPage(), RESELLER.email, RESELLER.password);
    await context.storageState({ path: RESELLER_STATE });
    await context.close();
  });

  test.afterEach(async ({ browser }) => {
    await Promise.all(browser.contexts().map((context) => context.close()));
  });

  // The wide admin pass, one test per page: every theme scanned, every detail opened.
  for (const view of ADMIN_VIEWS) {
    test(`${view.name} and what opens on it, as the carrier admin at 1280 px`, async ({
      browser,
    }) => {
      const page = await adminPage(browser, '/', { width: 1280, height: 900 });
      await checkView(page, view, 'admin', 1280, FULL);
    });
  }

  // Layout at 768 px and the reseller's own view: every page scanned once (colour contrast
  // does not change with the width or the viewer: the wide pass scanned both themes), and
  // photographed in both themes; the reseller's details opened.
  test('every page as the carrier admin at 768 px', async ({ browser }) => {
    test.setTimeout(300_000);
    const page = await adminPage(browser, '/', { width: 768, height: 900 });
    for (const view of ADMIN_VIEWS) {
      await checkView(page, view, 'admin', 768, { axe: ['light'], shots: THEMES, details: false });
    }
  });

  test('every page and what opens on it, as a reseller user at 1280 px', async ({ browser }) => {
    test.setTimeout(300_000);
    const context = await browser.newContext({
      storageState: RESELLER_STATE,
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
  });
});

test.describe('theme toggle, skip link, view-as banner', () => {
  test.afterEach(async ({ browser }) => {
    await Promise.all(browser.contexts().map((context) => context.close()));
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
        await page.screenshot({
          path: `test-results/pages/view-as-scrolled-admin-768-${theme}.png`,
        });
      }
      await expectAccessible(page, '/audit while viewing as a reseller user, scrolled, dark');
    } finally {
      await banner.getByRole('button', { name: 'Stop viewing' }).click();
      await expect(banner).toHaveCount(0);
    }
  });
});
