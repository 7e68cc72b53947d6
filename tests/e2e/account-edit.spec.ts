import { expect, test, type Browser, type Page } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminState, signIn } from '../fixtures/e2e-sign-in';

test.use({ storageState: async ({ baseURL }, use) => use(adminState(baseURL)) });

/**
 * A new customer made through the API (the page's own session), opened on its page:
 * its edit form, and what a script acting as "someone else" writes with.
 */
async function openNewCustomer(page: Page, name: string, data: object = {}) {
  await page.goto('/');
  const headers = { origin: new URL(page.url()).origin };
  const made = await page.request.post('/api/v1/customers', { data: { name, ...data }, headers });
  expect(made.status()).toBe(201);
  const customer = (await made.json()) as { id: string; version: number };
  await page.goto(`/customers/${customer.id}`);
  const form = page.getByRole('form', { name: `Edit ${name}`, exact: true });
  return { headers, customer, form };
}

test('editing a reseller saves; a change saved first by someone else shows live and as a conflict', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('signed-in-user')).toContainText(E2E_ADMIN.email);

  // The reseller's own page, from its row in the list: its overview holds the edit form.
  const toResellers = () =>
    page
      .getByRole('navigation', { name: 'Panel' })
      .getByRole('link', { name: 'Resellers', exact: true })
      .click();
  const table = page.getByRole('table', { name: 'Resellers' });
  const heading = page.getByRole('heading', { level: 1 });
  await toResellers();
  await table.getByRole('link', { name: 'Blue Telecom', exact: true }).click();
  await expect(heading).toHaveText('Blue Telecom');
  const form = page.getByRole('form', { name: 'Edit Blue Telecom', exact: true });
  await form.getByLabel('Name').fill('Blue Telecom Ltd');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect(heading).toHaveText('Blue Telecom Ltd');

  // The form stays open, now at the saved version; "someone else" then saves first
  // through the API (same session).
  const stale = page.getByRole('form', { name: 'Edit Blue Telecom Ltd', exact: true });
  await expect(stale.getByLabel('Name')).toHaveValue('Blue Telecom Ltd');
  const list = await (await page.request.get('/api/v1/resellers?q=Blue')).json();
  const current = list.items[0];
  const other = await page.request.patch(`/api/v1/resellers/${current.id}`, {
    data: { version: current.version, name: 'Blue Telecom Group' },
    // A cookie write must name the panel's origin, as the browser does for the page.
    headers: { origin: new URL(page.url()).origin },
  });
  expect(other.status()).toBe(200);
  // The open form learns of it live, before anyone presses Save.
  await expect(stale.getByRole('status')).toContainText('Someone saved a newer version');
  await stale.getByLabel('Name').fill('Blue Telecom Mine');
  await stale.getByRole('button', { name: 'Save changes' }).click();
  const conflict = stale.getByTestId('conflict');
  await expect(conflict).toContainText('Someone else saved this record first');
  await expect(conflict.getByRole('row', { name: /Name/ })).toContainText('Blue Telecom Mine');
  await expect(conflict.getByRole('row', { name: /Name/ })).toContainText('Blue Telecom Group');
  // Only the name was changed here: the other fields are not sent, and stay as saved.
  await expect(conflict.getByRole('row', { name: /Email/ })).toContainText('not changed');
  // Nothing was overwritten.
  const after = await (await page.request.get(`/api/v1/resellers/${current.id}`)).json();
  expect(after.name).toBe('Blue Telecom Group');
  // Choosing mine writes it on top of the saved version; the page and the list follow.
  await conflict.getByRole('button', { name: 'Save mine over it' }).click();
  await expect(heading).toHaveText('Blue Telecom Mine');
  const final = await (await page.request.get(`/api/v1/resellers/${current.id}`)).json();
  expect(final).toMatchObject({ name: 'Blue Telecom Mine', version: after.version + 1 });
  await toResellers();
  await expect(table.getByRole('cell', { name: 'Blue Telecom Mine', exact: true })).toBeVisible();
});

test("saving a customer under a suspended reseller keeps the customer's own status", async ({
  page,
}) => {
  await page.goto('/');
  const headers = { origin: new URL(page.url()).origin };
  const stamp = Date.now();
  const post = async (path: string, data: object) => {
    const answer = await page.request.post(`/api/v1${path}`, { data, headers });
    expect(answer.status(), await answer.text()).toBe(201);
    return (await answer.json()) as { id: string; version: number };
  };
  const reseller = await post('/resellers', {
    name: `Paused ${stamp}`,
    email: `paused-${stamp}@edit.test`,
  });
  const customer = await post('/customers', { name: `Below ${stamp}`, parentId: reseller.id });
  const setStatus = async (status: string) => {
    const now = await (await page.request.get(`/api/v1/resellers/${reseller.id}`)).json();
    const answer = await page.request.patch(`/api/v1/resellers/${reseller.id}`, {
      data: { version: now.version, status },
      headers,
    });
    expect(answer.status()).toBe(200);
  };
  await setStatus('suspended');

  // Its page shows it suspended (the reseller above is); only the credit limit is edited.
  await page.goto(`/customers/${customer.id}`);
  const form = page.getByRole('form', { name: `Edit Below ${stamp}`, exact: true });
  await expect(form.getByLabel('Status')).toHaveValue('suspended');
  await form.getByLabel('Credit limit').fill('100');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect
    .poll(async () => (await page.request.get(`/api/v1/customers/${customer.id}`)).json())
    .toMatchObject({ creditLimit: '100.000000' });

  // Resuming the reseller resumes it: it was never suspended on its own.
  await setStatus('active');
  const after = await (await page.request.get(`/api/v1/customers/${customer.id}`)).json();
  expect(after.status).toBe('active');
});

test('a customer is added under a reseller picked in the form, not only under the carrier', async ({
  page,
}) => {
  await page.goto('/');
  const headers = { origin: new URL(page.url()).origin };
  const stamp = Date.now();
  const made = await page.request.post('/api/v1/resellers', {
    data: { name: `Parent ${stamp}`, email: `parent-${stamp}@edit.test` },
    headers,
  });
  expect(made.status()).toBe(201);
  const reseller = (await made.json()) as { id: string; name: string };

  await page.goto('/customers');
  const form = page.getByRole('form', { name: 'Add customer' });
  await form.getByLabel('Name').fill(`Child ${stamp}`);
  const under = form.getByRole('combobox', { name: 'Under' });
  await under.fill(reseller.name);
  const options = page.locator(`#${await under.getAttribute('aria-controls')}`);
  await options.getByRole('option', { name: new RegExp(`^${reseller.name}`) }).click();
  await expect(under).toHaveValue(reseller.name);
  await form.getByRole('button', { name: 'Save' }).click();
  await expect
    .poll(async () => {
      const found = await page.request.get(
        `/api/v1/customers?q=${encodeURIComponent(`Child ${stamp}`)}`,
      );
      return ((await found.json()) as { items: { parentId: string }[] }).items[0]?.parentId;
    })
    .toBe(reseller.id);
});

test('a balance moving while the form is open is no conflict: the edit saves on top of it', async ({
  page,
}) => {
  const stamp = Date.now();
  const { headers, customer, form } = await openNewCustomer(page, `Calling ${stamp}`);
  await form.getByLabel('Credit limit').fill('250');
  // Meanwhile its balance moves (a payment here; calls do the same, at call rate).
  const paid = await page.request.post(`/api/v1/accounts/${customer.id}/payments`, {
    data: { amount: '5', idempotencyKey: `calling-${stamp}` },
    headers,
  });
  expect(paid.status()).toBe(201);
  await expect
    .poll(async () => (await page.request.get(`/api/v1/customers/${customer.id}`)).json())
    .toMatchObject({ balance: '5.000000' });
  // The page has the newer version (its balance shown), the form still the one it opened.
  await expect(page.getByText('€5.00').first()).toBeVisible();
  await expect(form.getByText('Someone saved a newer version')).toHaveCount(0);
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect
    .poll(async () => (await page.request.get(`/api/v1/customers/${customer.id}`)).json())
    .toMatchObject({ creditLimit: '250.000000', balance: '5.000000' });
  await expect(form.getByTestId('conflict')).toHaveCount(0);
});

test('a field someone else saved meanwhile is kept when this form saves another on top', async ({
  page,
}) => {
  const stamp = Date.now();
  const { headers, customer, form } = await openNewCustomer(page, `Harbour ${stamp}`, {
    creditLimit: '500',
  });
  // Opened as a person types an amount, not at the API's six decimals.
  await expect(form.getByLabel('Credit limit')).toHaveValue('500');
  await form.getByLabel('Email').fill(`billing-${stamp}@harbour.test`);
  // Meanwhile someone else lowers the limit.
  const other = await page.request.patch(`/api/v1/customers/${customer.id}`, {
    data: { version: customer.version, creditLimit: '50' },
    headers,
  });
  expect(other.status()).toBe(200);
  await expect(form.getByRole('status')).toContainText('Someone saved a newer version');
  // This form changed the email alone: it goes on top, and their limit stays.
  await form.getByRole('button', { name: 'Save changes' }).click();
  await expect
    .poll(async () => (await page.request.get(`/api/v1/customers/${customer.id}`)).json())
    .toMatchObject({ email: `billing-${stamp}@harbour.test`, creditLimit: '50.000000' });
  await expect(form.getByTestId('conflict')).toHaveCount(0);
});

test('a credit limit that blocks the account, or one cleared, is asked about before it is saved', async ({
  page,
}) => {
  const stamp = Date.now();
  const name = `Prepaid ${stamp}`;
  const { customer, form } = await openNewCustomer(page, name, { creditLimit: '50' });
  const read = async () =>
    (await (await page.request.get(`/api/v1/customers/${customer.id}`)).json()) as {
      creditLimit: string | null;
      creditBlock: string | null;
    };
  // 0 with nothing paid in: no credit left, its calls refused from the save on.
  await form.getByLabel('Credit limit').fill('0');
  await form.getByRole('button', { name: 'Save changes' }).click();
  const block = page.getByRole('alertdialog', { name: `Block ${name} for credit?` });
  await expect(block).toContainText('its calls are refused from now on');
  await block.getByRole('button', { name: 'Cancel' }).click();
  expect((await read()).creditLimit).toBe('50.000000');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await page
    .getByRole('alertdialog', { name: `Block ${name} for credit?` })
    .getByRole('button', { name: 'Save and block' })
    .click();
  await expect.poll(read).toMatchObject({ creditLimit: '0.000000', creditBlock: 'own' });

  // Cleared: no credit control at all, asked too.
  await form.getByLabel('Credit limit').fill('');
  await form.getByRole('button', { name: 'Save changes' }).click();
  const remove = page.getByRole('alertdialog', { name: `Remove ${name}'s credit limit?` });
  await expect(remove).toContainText('never blocked for credit');
  await remove.getByRole('button', { name: 'Remove the limit' }).click();
  await expect.poll(read).toMatchObject({ creditLimit: null, creditBlock: null });
});

/**
 * A person of the carrier in a group of its own holding `grants`, signed in in a browser
 * of its own; `call` writes as the admin through the page's session.
 */
async function personOfOwnGroup(
  page: Page,
  browser: Browser,
  person: { email: string; name: string; group: string; grants: string[] },
) {
  await page.goto('/');
  const headers = { origin: new URL(page.url()).origin };
  const call = async (method: string, path: string, data: object) => {
    const response = await page.request.fetch(`/api/v1${path}`, { method, data, headers });
    expect(response.ok(), `${method} ${path}`).toBe(true);
    return response.json();
  };
  const me = await (await page.request.get('/api/v1/me')).json();
  const group = await call('POST', '/groups', { name: person.group, grants: person.grants });
  const password = `e2e-${person.name.toLowerCase()}-password`;
  const user = await call('POST', '/users', {
    email: person.email,
    name: person.name,
    password,
    accountId: me.account.id,
    groupId: group.id,
  });
  const own = await (await browser.newContext({ storageState: undefined })).newPage();
  await signIn(own, person.email, password);
  return { call, group, user, own };
}

test('one’s own page follows a rename of oneself and of one’s group, without users:read', async ({
  page,
  browser,
}) => {
  // A watcher of customers: it reads neither users nor groups, so its own user record is
  // never fetched; its name and group on its own page come from `/me`, kept live.
  const {
    call,
    group,
    user,
    own: watcher,
  } = await personOfOwnGroup(page, browser, {
    email: 'watcher@e2e-own.test',
    name: 'Wat',
    group: 'E2E watchers',
    grants: ['customers:read'],
  });
  await watcher.goto(`/users/${user.id}`);
  const profile = watcher.getByRole('region', { name: 'Profile' });
  await expect(profile).toContainText('Wat');
  await expect(profile).toContainText('E2E watchers');
  await call('PATCH', `/users/${user.id}`, { version: user.version, name: 'Watson' });
  await call('PATCH', `/groups/${group.id}`, { version: group.version, name: 'Night watch' });
  await expect(profile).toContainText('Watson');
  await expect(profile).toContainText('Night watch');
  // The line above the email too.
  await expect(watcher.getByText('User · Watson (you)', { exact: true })).toBeVisible();
  await watcher.context().close();
});

test('a person who may update users renames itself from its own page’s Manage tab', async ({
  page,
  browser,
}) => {
  const { user, own: person } = await personOfOwnGroup(page, browser, {
    email: 'self-rename@e2e-own.test',
    name: 'Tess',
    group: 'E2E editors of users',
    grants: ['customers:read', 'users:update'],
  });
  await person.goto(`/users/${user.id}`);
  await person.getByRole('link', { name: 'Manage' }).click();
  const form = person.getByRole('form', { name: 'Name' });
  await form.getByLabel('Name').fill('Tessa');
  await form.getByRole('button', { name: 'Save name' }).click();
  await expect(person.getByText('User · Tessa (you)', { exact: true })).toBeVisible();
  await person.getByRole('link', { name: 'Profile' }).click();
  await expect(person.getByRole('region', { name: 'Profile' })).toContainText('Tessa');
  // Only the name: nothing that would take oneself over is offered.
  await person.getByRole('link', { name: 'Manage' }).click();
  await expect(person.getByRole('button', { name: /^(Disable|Reset|Delete)/ })).toHaveCount(0);
  const stored = await (await page.request.get(`/api/v1/users/${user.id}`)).json();
  expect(stored.name).toBe('Tessa');
  await person.context().close();
});
