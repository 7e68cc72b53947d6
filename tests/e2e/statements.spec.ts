import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { adminApi, adminState } from '../fixtures/e2e-sign-in';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * Statements in the panel (issue 19): the Statements tab of a customer issues one for
 * this month, another open panel sees it arrive live, and its PDF downloads — read back
 * with pdftotext, naming the customer and the issuer (the customer's parent).
 */
test.describe.configure({ timeout: 120_000 });
const contexts: BrowserContext[] = [];

test.afterEach(async () => {
  await closeContexts(contexts.splice(0));
});

async function open(browser: Browser, path: string): Promise<Page> {
  const context = await browser.newContext({
    storageState: adminState(),
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(path);
  return page;
}

test('a statement issued on the Statements tab arrives live and downloads as a PDF', async ({
  browser,
}) => {
  const issuer = await open(browser, '/');
  const { headers, me } = await adminApi(issuer.request, 'statements e2e');
  const made = await issuer.request.post('/api/v1/customers', {
    headers,
    data: { name: `Statement Hotel ${Date.now()}` },
  });
  expect(made.status()).toBe(201);
  const customer = (await made.json()) as { id: string; name: string };
  const paid = await issuer.request.post(`/api/v1/accounts/${customer.id}/payments`, {
    headers,
    data: { amount: '42.50', reference: 'E2E statement', idempotencyKey: `e2e-${customer.id}` },
  });
  expect(paid.status()).toBe(201);
  const adjusted = await issuer.request.post(`/api/v1/accounts/${customer.id}/adjustments`, {
    headers,
    data: {
      kind: 'adjustment',
      amount: '-1.125',
      reason: 'E2E rounding',
      idempotencyKey: `e2e-adj-${customer.id}`,
    },
  });
  expect(adjusted.status()).toBe(201);

  const watcher = await open(browser, `/customers/${customer.id}?tab=statements`);
  await expect(watcher.getByText('No statements issued yet.')).toBeVisible();
  await issuer.goto(`/customers/${customer.id}?tab=statements`);
  const form = issuer.getByRole('form', { name: 'Issue statement' });
  await form.getByRole('button', { name: 'Issue statement' }).click();
  const month = new Date().toISOString().slice(0, 7);
  await expect(issuer.getByText(`Statement no. 1 for ${month} issued.`)).toBeVisible();

  // The other panel's list grows without a reload.
  const table = watcher.getByRole('table', { name: `Statements of ${customer.name}` });
  await expect(table.getByRole('row')).toHaveCount(2);
  await expect(table).toContainText(month);
  // Issued before the month ended: it says it states the month so far.
  await expect(table).toContainText(/so far, to \d{4}-\d{2}-\d{2}/);
  // Every figure between opening and closing, so the row adds up, each at one precision.
  await expect(table.getByRole('columnheader')).toHaveText([
    'No.',
    'Period',
    'Opening',
    'Usage',
    'Payments',
    'Credit notes',
    'Adjustments',
    'Closing',
    'Issued',
    'Download',
  ]);
  const figures = table.getByRole('row').nth(1).locator('[data-amount]');
  expect(await figures.evaluateAll((cells) => cells.map((cell) => cell.textContent))).toEqual([
    '€0.000',
    '€0.000',
    '€42.500',
    '€0.000',
    '-€1.125',
    '€41.375',
  ]);

  const downloading = watcher.waitForEvent('download');
  await table
    .getByRole('link', { name: new RegExp(`Download statement 1 \\(${month}\\)`) })
    .click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe(`statement-1-${month}.pdf`);
  const file = await download.path();
  expect(readFileSync(file).subarray(0, 5).toString()).toBe('%PDF-');
  const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  expect(text).toContain(customer.name);
  expect(text).toMatch(/Payments\s+42\.50 EUR/);
  // The carrier's own customer: its statement is in the carrier's name or brand.
  const carrier = (await (await issuer.request.get('/api/v1/me', { headers })).json()) as {
    account: { name: string };
  };
  const brand = (await (
    await issuer.request.get(`/api/v1/accounts/${me.account.id}/brand`, { headers })
  ).json()) as { effective: { source: string; displayName: string } };
  expect(text).toContain(
    brand.effective.source === 'default' ? carrier.account.name : brand.effective.displayName,
  );
});
