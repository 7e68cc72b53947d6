import { expect, test, type Page } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminPage, signIn } from '../fixtures/e2e-sign-in';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * The panel works under its Content-Security-Policy (issue 13 item 6): signed in, every
 * page loads, goes live, and saves a change with no CSP violation reported by the
 * browser — neither as a `securitypolicyviolation` event nor on the console — and the
 * page responses carry the headers.
 */
const PANEL_PAGES = [
  '/',
  '/resellers',
  '/customers',
  '/users',
  '/groups',
  '/cards',
  '/trace',
  '/audit',
];

// A live admin page left open refetches on every later change and slows later specs.
test.afterEach(async ({ browser }) => {
  await closeContexts(browser.contexts());
});

/** Records every CSP violation the page reports, from its first script on. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  await page.exposeFunction('__reportCspViolation', (text: string) => seen.push(text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __reportCspViolation(text: string): void })
        .__reportCspViolation;
      report(
        `${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} on ${location.pathname}`,
      );
    });
  });
  page.on('console', (message) => {
    if (/Content.Security.Policy/i.test(message.text())) seen.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => seen.push(`page error: ${error.message}`));
  return seen;
}

test('the panel works under its CSP: every page, a live connection and a saved change, no violation', async ({
  page,
}) => {
  const violations = await watchViolations(page);

  const login = await page.goto('/login');
  const headers = login!.headers();
  const nonce = /script-src [^;]*'nonce-([^']+)'/.exec(headers['content-security-policy'] ?? '');
  expect(nonce, headers['content-security-policy']).not.toBeNull();
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['content-security-policy']).not.toContain("'unsafe-eval'");
  expect(headers).toMatchObject({
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
  });
  // Next stamped this response's nonce on the scripts it rendered.
  expect(await page.locator(`script[nonce]`).count()).toBeGreaterThan(0);

  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);

  const nonces = new Set<string>();
  for (const path of PANEL_PAGES) {
    const response = await page.goto(path);
    expect(response!.status(), path).toBe(200);
    const policy = response!.headers()['content-security-policy'] ?? '';
    nonces.add(/'nonce-([^']+)'/.exec(policy)?.[1] ?? '');
    // The page hydrated (client code ran) and its socket is connected.
    await expect(page.getByTestId('connection-indicator'), path).toHaveText('Live');
  }
  expect(nonces.size, 'a fresh nonce per page').toBe(PANEL_PAGES.length);

  // Client-side navigation loads more chunks: 'strict-dynamic' must let them in.
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Customers', exact: true })
    .click();
  await expect(page.getByRole('table', { name: 'Customers' })).toBeVisible();
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Cards', exact: true })
    .click();
  await page
    .getByRole('table', { name: 'Customer cards' })
    .getByRole('link', { name: 'Carrier Retail', exact: true })
    .click();
  await expect(page).toHaveURL(/\/cards\/[0-9a-f-]+$/);
  await expect(page.getByRole('table', { name: 'Rates' })).toContainText('Guernsey');

  // A write from the panel's own page passes the same-origin check.
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Customers', exact: true })
    .click();
  const add = page.getByRole('form', { name: 'Add customer' });
  await add.getByLabel('Name').fill('CSP Shop');
  await add.getByRole('button', { name: 'Save' }).click();
  await expect(
    page
      .getByRole('table', { name: 'Customers' })
      .getByRole('cell', { name: 'CSP Shop', exact: true }),
  ).toBeVisible();

  // A page the panel does not have still renders under the policy.
  const missing = await page.goto('/no-such-page');
  expect(missing!.status()).toBe(404);
  await expect(page.getByText(/could not be found/i)).toBeVisible();

  expect(violations).toEqual([]);
});

test('a write without the browser’s Origin is refused, the same write from the page is not', async ({
  browser,
}) => {
  const page = await adminPage(browser);
  // Playwright's request context carries the session cookie but names no Origin.
  const bare = await page.request.post('/api/v1/customers', { data: { name: 'No origin shop' } });
  expect(bare.status()).toBe(403);
  expect((await bare.json()).error.code).toBe('cross_origin');
  // The page's own fetch: the browser adds its Origin.
  const fromPage = await page.evaluate(async () => {
    const response = await fetch('/api/v1/customers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Page shop' }),
    });
    return { status: response.status, body: await response.json() };
  });
  expect(fromPage).toMatchObject({ status: 201, body: { name: 'Page shop' } });
});
