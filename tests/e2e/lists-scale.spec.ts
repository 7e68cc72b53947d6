import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminPage } from '../fixtures/e2e-sign-in';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * Lists and pickers that scale (issue 15 item 3): with 120 resellers — more than two
 * pages of 50 — the newest is reached through the server-searched pickers (given a user
 * and a card), the Users list names every user's account, sort headers toggle the
 * order, and a search keeps the rows on screen while it fetches.
 */
const PASSWORD = 'e2e-scale-password';
const COUNT = 120;

test.afterEach(async ({ browser }) => {
  await closeContexts(browser.contexts());
});

async function adminApi(request: APIRequestContext) {
  const token = (await (await request.post('/api/v1/auth/token', { data: E2E_ADMIN })).json())
    .token as string;
  return async (method: string, path: string, data?: unknown) => {
    const response = await request.fetch(`/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
      data,
    });
    expect(response.status(), `${method} ${path}`).toBeLessThan(300);
    return response.status() === 204 ? null : response.json();
  };
}

/** Types into a picker and takes the option that starts with `name`, by keyboard. */
async function pick(page: Page, combobox: ReturnType<Page['getByRole']>, name: string) {
  await combobox.fill(name);
  const controls = (await combobox.getAttribute('aria-controls'))!;
  const option = page.locator(`#${controls}`).getByRole('option', {
    name: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  });
  await expect(option).toHaveCount(1);
  // The search has answered (debounced): the match leads the list, nothing stale above it.
  await expect(page.locator(`#${controls}`).getByRole('option').first()).toHaveAccessibleName(
    new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
  );
  await expect(combobox).toHaveAttribute('aria-expanded', 'true');
  await combobox.press('ArrowDown');
  await combobox.press('Enter');
  await expect(combobox).toHaveValue(name);
  await expect(combobox).toHaveAttribute('aria-expanded', 'false');
}

test('the 120th reseller gets a user and a card through the pickers; lists sort, count and keep rows', async ({
  browser,
  request,
}) => {
  test.setTimeout(180_000);
  const api = await adminApi(request);
  const stamp = Date.now().toString(36);
  const nameOf = (index: number) => `Scale ${stamp} ${String(index).padStart(3, '0')}`;
  for (let index = 0; index < COUNT; index++) {
    await api('POST', '/resellers', {
      name: nameOf(index),
      email: `scale-${stamp}-${index}@scale.test`,
    });
  }
  const newest = nameOf(COUNT - 1);
  const groupName = `Scale group ${stamp}`;
  await api('POST', '/groups', { template: 'default-reseller', name: groupName });
  const cardName = `Scale card ${stamp}`;
  const card = await api('POST', '/cards', { name: cardName, currency: 'EUR', kind: 'customer' });
  const newestId = (await api('GET', `/resellers?q=${encodeURIComponent(newest)}`)).items[0]
    .id as string;

  const page = await adminPage(browser);

  // A user for the newest reseller: its name typed into the Account picker.
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  const addUser = page.getByRole('form', { name: 'Add user' });
  const email = `ops-${stamp}@scale.test`;
  await addUser.getByLabel('Email').fill(email);
  await addUser.getByLabel('Password').fill(PASSWORD);
  await pick(page, addUser.getByRole('combobox', { name: 'Account' }), newest);
  // The groups that account may be given, searched on the server.
  await pick(page, addUser.getByRole('combobox', { name: 'Group' }), groupName);
  await addUser.getByRole('button', { name: 'Create user' }).click();
  const users = page.getByRole('table', { name: 'Users' });
  const row = users.getByRole('row').filter({ hasText: email });
  await expect(row.getByRole('cell', { name: newest, exact: true })).toBeVisible();
  // Every user's account is named from its own DTO, none shown as "—".
  await expect(users.getByRole('row')).not.toHaveCount(1);
  await expect(users.getByRole('cell', { name: '—', exact: true })).toHaveCount(0);

  // Sorting users by name: the header says so, and a second press reverses it.
  const nameHeader = users.getByRole('columnheader', { name: /Name/ });
  await nameHeader.getByRole('button').click();
  await expect(nameHeader).toHaveAttribute('aria-sort', 'ascending');
  await nameHeader.getByRole('button').click();
  await expect(nameHeader).toHaveAttribute('aria-sort', 'descending');

  // The resellers list: counted, sorted both ways, the newest given the card in bulk.
  await page.getByRole('link', { name: 'Resellers', exact: true }).click();
  const search = page.getByRole('searchbox', { name: 'Search resellers' });
  await search.fill(`Scale ${stamp}`);
  const resellers = page.getByRole('table', { name: 'Resellers' });
  await expect(page.getByText(`50 of ${COUNT}`, { exact: true })).toBeVisible();
  const company = resellers.getByRole('columnheader', { name: /Company/ });
  await company.getByRole('button').click();
  await expect(company).toHaveAttribute('aria-sort', 'ascending');
  await expect(resellers.getByRole('row').nth(1)).toContainText(nameOf(0));
  await company.getByRole('button').click();
  await expect(company).toHaveAttribute('aria-sort', 'descending');
  await expect(resellers.getByRole('row').nth(1)).toContainText(newest);

  // A search keeps the rows on screen while the server answers: held until checked.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(
    (url) => url.pathname === '/api/v1/resellers' && url.searchParams.get('q') === newest,
    async (route) => {
      await held;
      await route.continue();
    },
  );
  await search.fill(newest);
  await expect(page.getByText('Updating…')).toBeVisible();
  await expect(resellers.getByRole('row')).toHaveCount(51);
  await expect(page.getByText('Loading…')).toHaveCount(0);
  release();
  await expect(page.getByText('1 of 1', { exact: true })).toBeVisible();
  await expect(resellers.getByRole('row')).toHaveCount(2);
  await page.unroute((url) => url.pathname === '/api/v1/resellers');
  // Kept in the address: Back from the reseller's page finds the list as it was left.
  await resellers.getByRole('link', { name: newest, exact: true }).click();
  await expect(page).toHaveURL(/\/resellers\/[0-9a-f-]{36}/);
  await page.goBack();
  await expect(search).toHaveValue(newest);
  await expect(page.getByText('1 of 1', { exact: true })).toBeVisible();
  await expect(company).toHaveAttribute('aria-sort', 'descending');

  await resellers.getByRole('checkbox', { name: `Select ${newest}` }).check();
  const bulk = page.getByRole('group', { name: 'Bulk actions' });
  await pick(page, bulk.getByRole('combobox', { name: 'Card to assign' }), cardName);
  await bulk.getByRole('button', { name: 'Assign card to selected' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Card assigned: 1' })).toBeVisible();
  const held2 = await api('GET', `/assignments?cardId=${card.id}`);
  expect(held2.items.map((item: { accountId: string }) => item.accountId)).toEqual([newestId]);

  // Suspending it first says what that reaches, counted by the server: its one user.
  await resellers.getByRole('checkbox', { name: `Select ${newest}` }).check();
  await bulk.getByRole('button', { name: 'Suspend selected' }).click();
  const suspend = page.getByRole('alertdialog', { name: 'Suspend 1 account?' });
  await expect(suspend).toContainText(`${newest}: it and its 1 user lose access until resumed.`);
  await suspend.getByRole('button', { name: 'Cancel' }).click();

  // The name links to the record's page.
  await expect(resellers.getByRole('link', { name: newest })).toHaveAttribute(
    'href',
    `/resellers/${newestId}`,
  );
});
