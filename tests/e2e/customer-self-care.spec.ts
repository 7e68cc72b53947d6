import { execFileSync } from 'node:child_process';
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { adminApi, signIn } from '../fixtures/e2e-sign-in';
import { saveScreenshot } from '../fixtures/e2e-screenshot';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * Customer self-care (issue 19) on its reseller's portal: Acme Voice gets a brand and the
 * hostname `portal.acme.example`, which a second browser resolves to this server
 * (`--host-resolver-rules`). A user of the demo's Hotel Alpine (a customer of Acme)
 * signs in there and sees its panel in Acme's brand — its rate card (Acme's sell prices,
 * never the carrier's card above it) and its balance and credit limit; a payment that
 * Acme's user records on Acme's own screen (the main URL) arrives on the customer's open
 * page without a reload, and so does the statement Acme issues, whose PDF is in Acme's
 * name.
 */
const PASSWORD = 'e2e-self-care-password';
const PORTAL = 'portal.acme.example';
const BRAND = 'Acme Portal';
let portalBrowser: Browser;

test.beforeAll(async () => {
  const { launchOptions } = test.info().project.use;
  portalBrowser = await chromium.launch({
    ...launchOptions,
    args: [...(launchOptions?.args ?? []), `--host-resolver-rules=MAP ${PORTAL} 127.0.0.1`],
  });
});

test.afterAll(async () => {
  await portalBrowser?.close();
});

test.afterEach(async ({ browser }) => {
  await closeContexts(browser.contexts());
  await closeContexts(portalBrowser.contexts());
});

async function person(browser: Browser, email: string, baseURL?: string): Promise<Page> {
  const page = await (
    await browser.newContext({
      viewport: { width: 1280, height: 900 },
      // The lane's own browser knows its base URL; the portal's is named.
      ...(baseURL ? { baseURL } : {}),
    })
  ).newPage();
  await signIn(page, email, PASSWORD);
  return page;
}

test('a customer user sees its rates and balance, and its reseller’s payment arrives live', async ({
  browser,
  request,
}) => {
  const { headers } = await adminApi(request, 'customer self-care');
  const api = async (method: string, path: string, data?: unknown) => {
    const response = await request.fetch(`/api/v1${path}`, { method, headers, data });
    expect(response.status(), `${method} ${path}`).toBeLessThan(300);
    return response.status() === 204 ? null : response.json();
  };
  const find = async (kind: string, name: string) =>
    (await api('GET', `/${kind}?q=${encodeURIComponent(name)}`)).items[0].id as string;
  const acme = await find('resellers', 'Acme Voice');
  const hotel = await find('customers', 'Hotel Alpine');
  await api('PUT', `/accounts/${acme}/brand`, {
    displayName: BRAND,
    primaryColor: '#1d4ed8',
    accentColor: '#b45309',
    hostnames: [PORTAL],
  });
  const resellerGroup = await api('POST', '/groups', {
    template: 'default-reseller',
    name: 'E2E self-care reseller',
  });
  const customerGroup = await api('POST', '/groups', {
    template: 'default-customer',
    name: 'E2E self-care customer',
  });
  const people: Record<string, string> = {};
  for (const [email, accountId, groupId] of [
    ['cashier@acme-voice.test', acme, resellerGroup.id],
    ['desk@hotel-alpine.test', hotel, customerGroup.id],
  ] as const) {
    people[email] = (
      await api('POST', '/users', { email, password: PASSWORD, accountId, groupId })
    ).id;
  }

  // The customer signs in on its reseller's portal, in its reseller's brand.
  const port = new URL(test.info().project.use.baseURL!).port;
  const customer = await person(
    portalBrowser,
    'desk@hotel-alpine.test',
    `http://${PORTAL}:${port}`,
  );
  await expect(customer.getByTestId('brand-name')).toHaveText(BRAND);
  await expect(customer).toHaveTitle(`Overview · ${BRAND}`);
  await expect(customer.locator('body')).not.toContainText('Reseller Panel');
  // Its panel: no lists of accounts, its one card as its rate card.
  const nav = customer.getByRole('navigation', { name: 'Panel' });
  await expect(nav.getByRole('link', { name: 'Rate card', exact: true })).toBeVisible();
  for (const hidden of ['Customers', 'Resellers', 'Audit log']) {
    await expect(nav.getByRole('link', { name: hidden, exact: true })).toHaveCount(0);
  }
  await expect(customer.getByRole('heading', { name: 'Balance of Hotel Alpine' })).toBeVisible();
  const own = customer.getByTestId('own-account');
  await expect(own.locator('[data-amount="500.000000"]').first()).toBeVisible();
  await expect(customer.getByTestId('assigned-cards')).toContainText('Acme Standard');
  await expect(customer.getByText('Live', { exact: true })).toBeVisible();
  // Its 404 page leads nowhere it may not go.
  expect((await customer.goto('/no-such-page'))?.status()).toBe(404);
  await expect(customer.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  for (const hidden of ['Customers', 'Resellers']) {
    await expect(customer.getByRole('link', { name: hidden, exact: true })).toHaveCount(0);
  }
  await customer.getByRole('link', { name: 'Back to the overview' }).click();

  // Acme's cashier records a payment from Hotel Alpine on its own screen.
  const reseller = await person(browser, 'cashier@acme-voice.test');
  // The Users page's Add user offers the customer's account too (its people sign in).
  await reseller.goto('/users');
  const picker = reseller
    .getByRole('form', { name: 'Add user' })
    .getByRole('combobox', { name: 'Account' });
  await picker.fill('Hotel Alpine');
  await expect(
    reseller
      .locator(`#${await picker.getAttribute('aria-controls')}`)
      .getByRole('option', { name: /^Hotel Alpine.*customer/ }),
  ).toHaveCount(1);
  // The customer's person's page links its account to the customer's page.
  await reseller.goto(`/users/${people['desk@hotel-alpine.test']}`);
  await expect(
    reseller.locator('main dl').getByRole('link', { name: 'Hotel Alpine', exact: true }),
  ).toHaveAttribute('href', `/customers/${hotel}`);
  await reseller.goto(`/customers/${hotel}?tab=balance`);
  const form = reseller.getByRole('form', { name: 'Record payment' });
  await form.getByLabel(/^Amount/).fill('42.25');
  await form.getByLabel('Reference (optional)').fill('E2E-SELF-1');
  await form.getByRole('button', { name: 'Record payment' }).click();
  const dialog = reseller.getByRole('alertdialog');
  await dialog.getByRole('button', { name: 'Record payment' }).click();
  await expect(reseller.getByRole('table', { name: 'Ledger of Hotel Alpine' })).toContainText(
    'E2E-SELF-1',
  );

  // The customer's page was never reloaded: the payment is in its ledger, live.
  await expect(customer.getByRole('table', { name: 'Ledger of Hotel Alpine' })).toContainText(
    'E2E-SELF-1',
  );
  await expect(own.locator('[data-amount="42.250000"]').first()).toBeVisible();
  await saveScreenshot(customer, 'test-results/pages/customer-self-care-overview.png');

  // Acme issues the month's statement: it arrives on the customer's page, live, and its
  // PDF is in Acme's brand (the customer's parent), never the carrier's name.
  const month = new Date().toISOString().slice(0, 7);
  const issued = (await api('POST', `/accounts/${hotel}/statements`, { period: month })) as {
    number: number;
    paymentsTotal: string;
  };
  expect(Number(issued.paymentsTotal)).toBeGreaterThanOrEqual(42.25);
  const statements = customer.getByRole('table', { name: 'Statements of Hotel Alpine' });
  const downloading = customer.waitForEvent('download');
  await statements
    .getByRole('link', {
      name: new RegExp(`Download statement ${issued.number} \\(${month}\\)`),
    })
    .click();
  const pdf = execFileSync('pdftotext', ['-layout', await (await downloading).path(), '-'], {
    encoding: 'utf8',
  });
  expect(pdf).toContain(BRAND);
  expect(pdf).toContain('Hotel Alpine');
  // The month's payments as the ledger has them, this one among them.
  const printed = /Payments\s+(-?[\d,]+\.\d+) EUR/.exec(pdf)?.[1];
  expect(Number(printed?.replaceAll(',', ''))).toBe(Number(issued.paymentsTotal));
  expect(pdf).not.toContain('Demo Carrier');

  // Its rate card: Acme's sell prices, searchable and exportable; the card above is not there.
  await customer
    .getByTestId('assigned-cards')
    .getByRole('link', { name: /Acme Standard/ })
    .click();
  await expect(customer.getByRole('heading', { level: 1, name: 'Acme Standard' })).toBeVisible();
  // The card it is charged by, not one it buys to resell.
  await expect(customer.getByText('Your prices: what your calls are charged')).toBeVisible();
  await expect(customer.getByText('Provider card', { exact: false })).toHaveCount(0);
  await expect(customer.getByText('Carrier Retail')).toHaveCount(0);
  const download = customer.waitForEvent('download');
  await customer.getByRole('link', { name: 'Export rates as CSV' }).click();
  const csv = await (await download).createReadStream();
  const chunks: Buffer[] = [];
  for await (const chunk of csv) chunks.push(chunk as Buffer);
  const exported = Buffer.concat(chunks).toString('utf8');
  expect(exported.split('\n')[0]).toContain('prefix,destination,rate');
  const sell = await api('GET', `/cards/${await find('cards', 'Acme Standard')}/rates?limit=1`);
  expect(exported).toContain(`${sell.items[0].prefix},`);

  await api('DELETE', `/accounts/${acme}/brand`);
});
