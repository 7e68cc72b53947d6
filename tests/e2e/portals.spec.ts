import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminApi, adminPage, signIn } from '../fixtures/e2e-sign-in';

/**
 * White-label portals (issue 19) through two hostnames in Chromium: the main URL
 * (localhost) and a reseller's portal, `portal.blue.example`, which a second browser
 * resolves to this server (`--host-resolver-rules`). The demo's Blue Telecom gets a brand
 * and that hostname through the API, the carrier a brand of its own: the portal shows
 * Blue's brand and never the carrier's, refuses the carrier's admin with the generic
 * answer, and a Blue user signed in there sees Blue's brand in the header, live.
 */
const PORTAL = 'portal.blue.example';
const BLUE_USER = { email: 'ops@portal.bluetel.test', password: 'blue-portal-password-1' };
const CARRIER_BRAND = 'Demo Carrier Voice';

let api: Awaited<ReturnType<typeof adminApi>>;
let carrierId: string;
let blueId: string;
let portalBrowser: Browser;

test.beforeAll(async ({ request }) => {
  api = await adminApi(request, 'portals');
  const { headers } = api;
  carrierId = api.me.account.id;
  const blue = (await (await request.get('/api/v1/resellers?q=Blue%20Telecom', { headers })).json())
    .items[0].id as string;
  blueId = blue;
  const group = await request.post('/api/v1/groups', {
    headers,
    data: { template: 'default-reseller', name: 'Portal resellers' },
  });
  expect(group.status()).toBe(201);
  const user = await request.post('/api/v1/users', {
    headers,
    data: { ...BLUE_USER, accountId: blue, groupId: (await group.json()).id },
  });
  expect(user.status()).toBe(201);
  const brand = (displayName: string, hostnames: string[]) => ({
    displayName,
    primaryColor: '#0f766e',
    accentColor: '#b45309',
    supportEmail: 'help@bluetel.test',
    hostnames,
  });
  expect(
    (
      await request.put(`/api/v1/accounts/${blue}/brand`, {
        headers,
        data: brand('Blue Portal', [PORTAL]),
      })
    ).status(),
  ).toBe(201);
  expect(
    (
      await request.put(`/api/v1/accounts/${carrierId}/brand`, {
        headers,
        data: { ...brand(CARRIER_BRAND, []), primaryColor: '#7c2d12', accentColor: '#1d4ed8' },
      })
    ).status(),
  ).toBe(201);

  const { launchOptions } = test.info().project.use;
  portalBrowser = await chromium.launch({
    ...launchOptions,
    args: [...(launchOptions?.args ?? []), `--host-resolver-rules=MAP ${PORTAL} 127.0.0.1`],
  });
});

// The other specs of the lane expect the product's own name on the main URL.
test.afterAll(async ({ request }) => {
  await portalBrowser?.close();
  await request.delete(`/api/v1/accounts/${carrierId}/brand`, { headers: api.headers });
});

async function portalPage(): Promise<Page> {
  const port = new URL(test.info().project.use.baseURL!).port;
  const context = await portalBrowser.newContext({
    baseURL: `http://${PORTAL}:${port}`,
    viewport: { width: 1280, height: 800 },
  });
  return context.newPage();
}

test('the portal signs in in the reseller’s brand, never the carrier’s', async () => {
  const page = await portalPage();
  await page.goto('/login');
  await expect(page.getByTestId('brand-name')).toHaveText('Blue Portal');
  await expect(page).toHaveTitle('Sign in · Blue Portal');
  await expect(page.getByTestId('brand-support')).toContainText('help@bluetel.test');
  await expect(page.locator('body')).not.toContainText(CARRIER_BRAND);
  await expect(page.locator('body')).not.toContainText('Reseller Panel');
  // The brand's primary colour fills the sign-in button.
  await expect(page.getByRole('button', { name: 'Sign in' })).toHaveCSS(
    'background-color',
    'rgb(15, 118, 110)',
  );

  // The carrier's admin belongs elsewhere: the answer an unknown email gets.
  await page.getByLabel('Email').fill(E2E_ADMIN.email);
  await page.getByLabel('Password').fill(E2E_ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const refusal = page.getByRole('form', { name: 'Sign in' }).getByRole('alert');
  await expect(refusal).toContainText('sign in on your own portal');
  const told = await refusal.textContent();
  await page.getByLabel('Email').fill('nobody@bluetel.test');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(refusal).toHaveText(told!);

  // Blue's own user signs in there and works in Blue's brand, live.
  await page.getByLabel('Email').fill(BLUE_USER.email);
  await page.getByLabel('Password').fill(BLUE_USER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toContainText(BLUE_USER.email);
  await expect(page.getByTestId('brand-name')).toHaveText('Blue Portal');
  await expect(page).toHaveTitle('Overview · Blue Portal');
  // The socket's origin is the portal's: allowed because the hostname is registered.
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  await expect(page.locator('body')).not.toContainText(CARRIER_BRAND);

  // Signing out stays on the portal.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(new RegExp(`^http://${PORTAL}:\\d+/login$`));
  await expect(page.getByTestId('brand-name')).toHaveText('Blue Portal');
  await page.context().close();
});

test('the main URL shows each person the brand of its own account', async ({ browser }) => {
  // The main URL shows the carrier its own brand.
  const main = await adminPage(browser);
  await expect(main.getByTestId('brand-name')).toHaveText(CARRIER_BRAND);
  await main.context().close();

  // Signed in on the main URL, Blue's user still sees Blue's brand, colours included:
  // the sign-in page had none, and the page that follows takes them on.
  const elsewhere = await (await browser.newContext()).newPage();
  const violations: string[] = [];
  elsewhere.on('console', (message) => {
    if (/Content Security Policy/.test(message.text())) violations.push(message.text());
  });
  await signIn(elsewhere, BLUE_USER.email, BLUE_USER.password);
  await expect(elsewhere.getByTestId('brand-name')).toHaveText('Blue Portal');
  await expect
    .poll(() =>
      elsewhere.evaluate(() =>
        getComputedStyle(document.documentElement).getPropertyValue('--color-brand-600').trim(),
      ),
    )
    .toBe('#0f766e');
  expect(violations).toEqual([]);
  await elsewhere.context().close();
});

test('a brand changed while a panel is open shows there at once, without a reload', async ({
  browser,
  request,
}) => {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, BLUE_USER.email, BLUE_USER.password);
  await expect(page.getByTestId('brand-name')).toHaveText('Blue Portal');
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  // A mark on this very document: a reload would lose it.
  await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));

  const put = (version: number, displayName: string, primaryColor: string) =>
    request.put(`/api/v1/accounts/${blueId}/brand`, {
      headers: api.headers,
      data: {
        displayName,
        primaryColor,
        accentColor: '#b45309',
        supportEmail: 'help@bluetel.test',
        hostnames: [PORTAL],
        version,
      },
    });
  const current = (
    await (await request.get(`/api/v1/accounts/${blueId}/brand`, { headers: api.headers })).json()
  ).brand;
  const changed = await put(current.version, 'Blue Voice', '#1e3a8a');
  expect(changed.status()).toBe(200);

  await expect(page.getByTestId('brand-name')).toHaveText('Blue Voice');
  await expect(page).toHaveTitle('Overview · Blue Voice');
  // The change is in Blue's audit: its recent activity lists it, live too.
  await expect(page.getByRole('table', { name: 'Recent activity' })).toContainText(
    'updated the brand Blue Voice',
  );
  await expect
    .poll(() =>
      page.evaluate(() =>
        getComputedStyle(document.documentElement).getPropertyValue('--color-brand-600').trim(),
      ),
    )
    .toBe('#1e3a8a');
  expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(
    true,
  );
  await page.context().close();
  // As it was, for whatever runs after.
  expect((await put((await changed.json()).version, 'Blue Portal', '#0f766e')).status()).toBe(200);
});
