import {
  expect,
  test,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Locator,
  type Page,
} from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { adminState, adminApi, signIn } from '../fixtures/e2e-sign-in';
import { holdScripts, holdSocket } from '../fixtures/e2e-hold-scripts';
import { saveScreenshot } from '../fixtures/e2e-screenshot';
import { closeContexts } from '../fixtures/e2e-close';
import { expectAccessible } from '../fixtures/e2e-accessibility';

/**
 * Record pages (issue 15, items 2 and 5): each record has a URL whose tab survives reload
 * and Back, a reseller's page carries the seed's own path ("+ Add user" for that
 * account), an id outside the viewer's scope is the panel's 404, and a reseller's header
 * follows the carrier's rename of it live.
 */
const PASSWORD = 'record-pages-pass';
// Each journey arranges accounts, signs a second person in and loads several whole
// pages: on a loaded 2-core machine that came close to the default 60 s.
test.describe.configure({ timeout: 120_000 });
const contexts: BrowserContext[] = [];

test.afterEach(async () => {
  // A context left open keeps a live page (and its socket) running into later specs.
  await closeContexts(contexts.splice(0));
});

async function open(
  browser: Browser,
  path: string,
  signedInAsAdmin = true,
  /** The viewer's language and zone, when the test reads them. */
  viewer: Pick<BrowserContextOptions, 'locale' | 'timezoneId'> = {},
): Promise<Page> {
  const context = await browser.newContext({
    ...(signedInAsAdmin ? { storageState: adminState() } : {}),
    viewport: { width: 1280, height: 900 },
    ...viewer,
  });
  contexts.push(context);
  const page = await context.newPage();
  if (path) await page.goto(path);
  return page;
}

/** A server-searched picker: type the name, take its (single) option by keyboard. */
async function pickOption(combobox: Locator, name: string) {
  await combobox.fill(name);
  const list = combobox.page().locator(`#${await combobox.getAttribute('aria-controls')}`);
  const starts = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  await expect(list.getByRole('option', { name: starts })).toHaveCount(1);
  await expect(list.getByRole('option').first()).toHaveAccessibleName(starts);
  await combobox.press('ArrowDown');
  await combobox.press('Enter');
  await expect(combobox).toHaveValue(name);
}

/** A reseller with a user in a Default Reseller group, through the API as the e2e admin. */
async function arrangeReseller(page: Page, label: string) {
  const { headers } = await adminApi(page.request, `record pages ${label}`);
  const stamp = `${label} ${Date.now()}`;
  const post = async (path: string, data: object) => {
    const answer = await page.request.post(`/api/v1${path}`, { headers, data });
    expect(answer.status(), `${path}: ${await answer.text()}`).toBe(201);
    return (await answer.json()) as { id: string; name: string; version: number };
  };
  const group = await post('/groups', { template: 'default-reseller', name: `Group ${stamp}` });
  const reseller = await post('/resellers', {
    name: `Reseller ${stamp}`,
    email: `${label}@records.test`,
  });
  const email = `ops-${label}-${Date.now()}@records.test`;
  const user = await post('/users', {
    email,
    password: PASSWORD,
    accountId: reseller.id,
    groupId: group.id,
  });
  return { headers, group, reseller, user: { ...user, email } };
}

test("the seed's path from a reseller's page: + Add user preselects it, the user appears there", async ({
  browser,
}) => {
  const admin = await open(browser, '/');
  const { headers, group } = await arrangeReseller(admin, 'seed');
  const company = `Nimbus ${Date.now()}`;
  const made = await admin.request.post('/api/v1/resellers', {
    headers,
    data: { name: company, email: 'billing@nimbus.test' },
  });
  expect(made.status()).toBe(201);
  const { id } = (await made.json()) as { id: string };

  await admin.goto(`/resellers/${id}`);
  await expect(admin.getByRole('heading', { level: 1, name: company })).toBeVisible();
  await expect(admin.getByRole('navigation', { name: 'Breadcrumb' })).toContainText(company);
  // The tab names the record, not only its kind.
  await expect(admin).toHaveTitle(`${company} · Reseller · Reseller Panel`);
  await admin
    .getByRole('navigation', { name: 'Reseller sections' })
    .getByRole('link', { name: 'Users', exact: true })
    .click();
  await expect(admin).toHaveURL(new RegExp(`/resellers/${id}\\?tab=users$`));
  await expect(admin.getByText('No users yet: add the first one.')).toBeVisible();

  await admin.getByRole('button', { name: '+ Add user' }).click();
  const form = admin.getByRole('form', { name: `Add user to ${company}` });
  await expect(form.getByLabel('Account')).toHaveValue(company);
  // The groups this account may use: the carrier's own among them.
  await pickOption(form.getByRole('combobox', { name: 'Group' }), group.name);
  const email = `first-${Date.now()}@nimbus.test`;
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Create user' }).click();

  const users = admin.getByRole('table', { name: `Users of ${company}` });
  await expect(users.getByRole('link', { name: email })).toBeVisible();
  // The user belongs to this reseller: its own page says so, with the way back.
  await users.getByRole('link', { name: email }).click();
  await expect(admin).toHaveURL(/\/users\/[0-9a-f-]+$/);
  await expect(admin.getByRole('heading', { level: 1, name: email })).toBeVisible();
  await expect(
    admin.getByRole('region', { name: 'Profile' }).getByRole('link', { name: company }),
  ).toBeVisible();
});

test('deep links keep their place through reload and Back', async ({ browser }) => {
  const admin = await open(browser, '/');
  const { reseller, user } = await arrangeReseller(admin, 'deep');
  const tabs = admin.getByRole('navigation', { name: 'Reseller sections' });
  const current = tabs.locator('[aria-current="page"]');

  await admin.goto(`/resellers/${reseller.id}`);
  await expect(current).toHaveText('Overview');
  await tabs.getByRole('link', { name: 'Users', exact: true }).click();
  await expect(admin).toHaveURL(/\?tab=users$/);
  await expect(current).toHaveText('Users');
  await admin.reload();
  await expect(current).toHaveText('Users');
  await expect(
    admin
      .getByRole('table', { name: `Users of ${reseller.name}` })
      .getByRole('link', { name: user.email }),
  ).toBeVisible();

  await tabs.getByRole('link', { name: 'Customers', exact: true }).click();
  await expect(current).toHaveText('Customers');
  await admin.goBack();
  await expect(admin).toHaveURL(/\?tab=users$/);
  await expect(current).toHaveText('Users');

  // The user's own page, straight to a tab, and back to the reseller from there.
  await admin.goto(`/users/${user.id}?tab=manage`);
  const userTabs = admin.getByRole('navigation', { name: 'User sections' });
  await expect(userTabs.locator('[aria-current="page"]')).toHaveText('Manage');
  await admin.reload();
  await expect(userTabs.locator('[aria-current="page"]')).toHaveText('Manage');
  await admin.goBack();
  await expect(admin).toHaveURL(/\?tab=users$/);
  await expect(current).toHaveText('Users');
});

test("a reseller's header follows the carrier's rename of it, without a reload", async ({
  browser,
}) => {
  const admin = await open(browser, '/');
  const { reseller, user } = await arrangeReseller(admin, 'rename');

  const person = await open(browser, '', false);
  await signIn(person, user.email, PASSWORD);
  const account = person.getByTestId('signed-in-account');
  await expect(account).toContainText(reseller.name);
  await expect(person.getByTestId('connection-indicator')).toHaveText('Live');
  await person.evaluate(() => Object.assign(window, { notReloaded: true }));

  await admin.goto(`/resellers/${reseller.id}`);
  const edit = admin.getByRole('form', { name: `Edit ${reseller.name}` });
  const renamed = `${reseller.name} Telecom`;
  await edit.getByLabel('Name').fill(renamed);
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toHaveText(renamed);
  // The tab and the breadcrumb follow the record's live name too.
  await expect(admin).toHaveTitle(`${renamed} · Reseller · Reseller Panel`);
  await expect(admin.getByRole('navigation', { name: 'Breadcrumb' })).toContainText(renamed);

  await expect(account).toContainText(renamed);
  await expect(person.getByTestId('overview-identity')).toContainText(renamed);
  expect(await person.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true);

  // Renamed between the page's render and its socket's join (which no room of the tab
  // hears): the header reads itself again once joined.
  const { connecting, release } = await holdSocket(person);
  await person.reload();
  await connecting;
  const { headers } = await adminApi(admin.request, 'record pages rename');
  const current = await (
    await admin.request.get(`/api/v1/resellers/${reseller.id}`, { headers })
  ).json();
  const again = `${reseller.name} Voice`;
  const patched = await admin.request.patch(`/api/v1/resellers/${reseller.id}`, {
    headers,
    data: { version: current.version, name: again },
  });
  expect(patched.status()).toBe(200);
  release();
  await expect(account).toContainText(again);
});

test("a customer's owner and breadcrumb follow someone else's transfer of it, and its owner's rename, without a reload", async ({
  browser,
}) => {
  const admin = await open(browser, '/');
  const from = await arrangeReseller(admin, 'owner-from');
  const to = await arrangeReseller(admin, 'owner-to');
  const { headers } = from;
  const customer = await admin.request.post('/api/v1/customers', {
    headers,
    data: { name: `Moving ${Date.now()}`, parentId: from.reseller.id },
  });
  expect(customer.status()).toBe(201);
  const { id, name, currency } = (await customer.json()) as {
    id: string;
    name: string;
    currency: string;
  };
  // The new parent's own customer card, made by its own person.
  const issued = await admin.request.post('/api/v1/auth/token', {
    data: { email: to.user.email, password: PASSWORD, name: 'owner-to' },
  });
  expect(issued.status()).toBe(201);
  const card = await admin.request.post('/api/v1/cards', {
    headers: { authorization: `Bearer ${(await issued.json()).token}` },
    data: { name: 'Owner-to retail', currency, kind: 'customer' },
  });
  expect(card.status(), await card.text()).toBe(201);

  await admin.goto(`/customers/${id}`);
  await expect(admin.getByRole('heading', { level: 1 })).toHaveText(name);
  const crumbs = admin.getByRole('navigation', { name: 'Breadcrumb' });
  await expect(crumbs).toContainText(from.reseller.name);
  await admin.evaluate(() => Object.assign(window, { notReloaded: true }));

  const moved = await admin.request.post(`/api/v1/customers/${id}/transfer`, {
    headers,
    data: { toParentId: to.reseller.id, cardId: ((await card.json()) as { id: string }).id },
  });
  expect(moved.status(), await moved.text()).toBe(200);
  await expect(
    admin.getByRole('link', { name: to.reseller.name, exact: true }).first(),
  ).toBeVisible();
  await expect(crumbs).toContainText(to.reseller.name);
  await expect(crumbs).not.toContainText(from.reseller.name);
  expect(await admin.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true);

  // The new owner renamed by someone else: the Owner fact follows, still without a reload
  // (it showed the page's server-rendered name until the next reload).
  const owner = admin.locator('dt', { hasText: /^Owner$/ }).locator('+ dd');
  await expect(owner).toHaveText(to.reseller.name);
  const current = await (
    await admin.request.get(`/api/v1/resellers/${to.reseller.id}`, { headers })
  ).json();
  const renamed = `${to.reseller.name} Renamed`;
  const patched = await admin.request.patch(`/api/v1/resellers/${to.reseller.id}`, {
    headers,
    data: { version: current.version, name: renamed },
  });
  expect(patched.status(), await patched.text()).toBe(200);
  await expect(owner).toHaveText(renamed);
  expect(await admin.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true);
});

test('an edit typed while the page still loads is kept whole: fields wait for the script', async ({
  browser,
}) => {
  const admin = await open(browser, '');
  const { reseller } = await arrangeReseller(admin, 'early-edit');
  const release = await holdScripts(admin);
  await admin.goto(`/resellers/${reseller.id}`, { waitUntil: 'domcontentloaded' });
  const edit = admin.getByRole('form', { name: `Edit ${reseller.name}` });
  const name = edit.getByLabel('Name');
  // The server's HTML shows the record, but nothing in the form takes input yet: what was
  // typed would be overwritten with the opened value when the form's script takes over.
  await expect(name).toHaveValue(reseller.name);
  await expect(name).not.toBeEditable();
  await expect(edit.getByLabel('Status')).toBeDisabled();
  await expect(edit.getByRole('button', { name: 'Save changes' })).toBeDisabled();

  const renamed = `${reseller.name} Early`;
  // The person types as the script arrives: the typing lands once the field takes it.
  const typed = name.fill(renamed);
  release();
  await typed;
  await expect(name).toHaveValue(renamed);
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toHaveText(renamed);
});

test("the server's HTML shows amounts and times in the viewer's language, the zone named until the browser's own", async ({
  browser,
}) => {
  const page = await open(browser, '', true, { locale: 'de-DE', timezoneId: 'America/New_York' });
  const { reseller } = await arrangeReseller(page, 'formatted');
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const release = await holdScripts(page);
  await page.goto(`/resellers/${reseller.id}`, { waitUntil: 'domcontentloaded' });
  const overview = page.getByRole('region', { name: 'Overview' });
  const balance = overview.locator('dt:text-is("Balance") + dd');
  const created = overview.locator('dt:text-is("Created") + dd time');
  // Before any script: German, as the browser asked (Accept-Language), not "0.000000" or
  // an ISO time; the hover names the zone the server used, since it cannot know the viewer's.
  await expect(balance).toHaveText('0,00 €');
  await expect(created).toHaveText('jetzt');
  await expect(created).toHaveAttribute('title', / UTC$/);
  await expect(page.locator('main')).not.toContainText(/\d{4}-\d\d-\d\dT\d\d:/);
  release();
  // Once hydrated: the browser's own zone, unnamed, and React kept the server's HTML (a
  // mismatch would have been logged as an error). The hour has no leading zero in German:
  // 7:17:33 before ten in New York.
  await expect(created).toHaveAttribute('title', /^\d{1,2}\. Dez\. \d{4}, \d{1,2}:\d\d:\d\d$/);
  await expect(balance).toHaveText('0,00 €');
  expect(errors).toEqual([]);
});

test("in the dark theme a brand's logo sits on a light plate, its dark ink legible", async ({
  browser,
}) => {
  const admin = await open(browser, '');
  const { headers, reseller, user } = await arrangeReseller(admin, 'logo');
  const brand = await admin.request.put(`/api/v1/accounts/${reseller.id}/brand`, {
    headers,
    data: {
      displayName: 'Inkwell Voice',
      primaryColor: '#1d4ed8',
      accentColor: '#0369a1',
      hostnames: [],
    },
  });
  expect(brand.status(), await brand.text()).toBe(201);
  // A 1×1 PNG: what it shows does not matter, only what it sits on.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
    'base64',
  );
  const logo = await admin.request.put(`/api/v1/accounts/${reseller.id}/brand/logo`, {
    headers: { ...headers, 'content-type': 'image/png' },
    data: png,
  });
  expect(logo.status(), await logo.text()).toBeLessThan(300);

  const person = await open(browser, '', false);
  await signIn(person, user.email, PASSWORD);
  const image = person.getByRole('banner').getByTestId('brand-logo');
  await expect(image).toBeVisible();
  const plate = () => image.evaluate((element) => getComputedStyle(element).backgroundColor);
  await person.emulateMedia({ colorScheme: 'light' });
  await expect.poll(plate).toBe('rgba(0, 0, 0, 0)');
  await person.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(plate).toBe('rgb(248, 250, 252)');
  await saveScreenshot(person, 'test-results/pages/brand-logo-reseller-1280-dark.png', {
    fullPage: false,
  });
});

test("an id outside the viewer's scope, or malformed, is the panel's 404", async ({ browser }) => {
  const admin = await open(browser, '/');
  const { user } = await arrangeReseller(admin, 'outsider');
  const other = await arrangeReseller(admin, 'other');
  const { headers, me } = await adminApi(admin.request, 'record pages outsider');
  const card = await admin.request.post('/api/v1/cards', {
    headers,
    data: { name: `Carrier upstream ${Date.now()}`, currency: 'EUR', kind: 'provider' },
  });
  expect(card.status()).toBe(201);
  const cardId = ((await card.json()) as { id: string }).id;
  const adminUser = (await (await admin.request.get('/api/v1/me', { headers })).json()) as {
    user: { id: string };
  };

  const person = await open(browser, '', false);
  await signIn(person, user.email, PASSWORD);
  for (const path of [
    `/resellers/${other.reseller.id}`,
    `/resellers/${me.account.id}`,
    `/users/${other.user.id}`,
    `/users/${adminUser.user.id}`,
    `/cards/${cardId}`,
    `/customers/${other.reseller.id}`,
    '/resellers/not-an-id',
  ]) {
    const answer = await person.goto(path);
    expect(answer?.status(), path).toBe(404);
    await expect(person.getByRole('heading', { name: /not found/i })).toBeVisible();
    await expect(person.locator('body')).not.toContainText(other.reseller.name);
  }
});

test('Record payment on the Balance tab moves the balance and unblocks the customer live elsewhere', async ({
  browser,
}) => {
  const payer = await open(browser, '/');
  const { headers } = await adminApi(payer.request, 'record pages payment');
  const made = await payer.request.post('/api/v1/customers', {
    headers,
    data: { name: `Prepaid ${Date.now()}`, creditLimit: '0' },
  });
  expect(made.status()).toBe(201);
  const customer = (await made.json()) as { id: string; name: string; creditBlock: string };
  expect(customer.creditBlock).toBe('own');
  // The overview, open since before it existed, names it out of credit live.
  await expect(payer.getByRole('region', { name: /out of credit/ })).toContainText(customer.name);

  const watcher = await open(browser, `/customers/${customer.id}?tab=balance`);
  await expect(watcher.getByText('Blocked: no credit left')).toBeVisible();
  await payer.goto(`/customers/${customer.id}?tab=balance`);
  const form = payer.getByRole('form', { name: 'Record payment' });
  await form.getByLabel(/^Amount/).fill('12.50');
  await form.getByLabel('Reference (optional)').fill('E2E-1');
  await form.getByRole('button', { name: 'Record payment' }).click();
  const dialog = payer.getByRole('alertdialog');
  await expect(dialog).toContainText(`Record a payment from ${customer.name}?`);
  await dialog.getByRole('button', { name: 'Record payment' }).click();

  await expect(payer.getByText('Payment of €12.50 recorded.')).toBeVisible();
  // The other context was never reloaded: the balance and the block follow live.
  await expect(watcher.locator('[data-amount="12.500000"]').first()).toBeVisible();
  // At the currency's two decimals at least, as the balance above it.
  await expect(watcher.getByRole('table', { name: `Ledger of ${customer.name}` })).toContainText(
    '€12.50',
  );
  // An amount is never split after its sign, however narrow its column.
  await expect(watcher.locator('[data-amount="12.500000"]').first()).toHaveCSS(
    'white-space',
    'nowrap',
  );
  await expect(watcher.getByText('Open', { exact: true })).toBeVisible();
  await expect(watcher.getByRole('table', { name: `Ledger of ${customer.name}` })).toContainText(
    'E2E-1',
  );

  // Typed wrong: taken back by an adjustment (the ledger is never edited), which uses the
  // credit up again — blocked live elsewhere, the reason in the ledger.
  const correct = payer.getByRole('form', { name: 'Correct balance' });
  // Both money forms pass the accessibility scan the other pages do.
  await expectAccessible(payer, `/customers/${customer.id}?tab=balance`);
  await correct.getByLabel('Kind').selectOption('adjustment');
  await correct.getByLabel(/^Amount/).fill('-12.50');
  await correct.getByLabel('Reason').fill('E2E-1 was never paid');
  await correct.getByRole('button', { name: 'Post correction' }).click();
  await expect(dialog).toContainText(`Adjust the balance of ${customer.name}?`);
  await expect(dialog).toContainText('calls are refused for it');
  await dialog.getByRole('button', { name: 'Post adjustment' }).click();
  await expect(watcher.getByText('Blocked: no credit left')).toBeVisible();
  await expect(watcher.getByRole('table', { name: `Ledger of ${customer.name}` })).toContainText(
    'E2E-1 was never paid',
  );

  // A payment whose answer is lost on the way back: recorded, though the form cannot know.
  // Its figures edited and sent again, the form says the first landed, with its figures
  // (not a refusal about keys), and the next send is a second payment, on purpose.
  await payer.route(
    `**/api/v1/accounts/${customer.id}/payments`,
    async (route) => {
      await route.fetch();
      await route.abort('connectionreset');
    },
    { times: 1 },
  );
  const pay = async (amount: string) => {
    await form.getByLabel(/^Amount/).fill(amount);
    await form.getByLabel('Reference (optional)').fill('E2E-2');
    await form.getByRole('button', { name: 'Record payment' }).click();
    await dialog.getByRole('button', { name: 'Record payment' }).click();
  };
  await pay('30');
  await expect(form).toContainText('Something went wrong');
  await expect(watcher.getByText('Open', { exact: true })).toBeVisible();
  await pay('3');
  await expect(form).toContainText(
    'The payment sent earlier from this form was recorded: €30.00 (E2E-2), though its answer was lost',
  );
  await form.getByRole('button', { name: 'Record payment' }).click();
  await dialog.getByRole('button', { name: 'Record payment' }).click();
  await expect(watcher.locator('[data-amount="33.000000"]').first()).toBeVisible();

  // The ledger narrowed to one kind, and the same selection downloaded as a file.
  const ledger = watcher.getByRole('region', { name: 'Ledger' });
  await ledger.getByLabel('Kind').selectOption('adjustment');
  const table = watcher.getByRole('table', { name: `Ledger of ${customer.name}` });
  await expect(table).toContainText('E2E-1 was never paid');
  await expect(table).not.toContainText('E2E-2');
  const downloading = watcher.waitForEvent('download');
  await ledger.getByRole('link', { name: 'Export CSV' }).click();
  const file = await readFile((await (await downloading).path())!, 'utf8');
  const lines = file.trim().split('\r\n');
  expect(lines[0]).toBe(
    'id,createdAt,kind,amount,currency,balanceAfter,reference,by,counterpartyId',
  );
  expect(lines.slice(1)).toEqual([
    expect.stringMatching(/,adjustment,-12\.500000,EUR,0\.000000,E2E-1 was never paid,/),
  ]);
  // Days ahead of every movement: none, said as a selection, not as an empty ledger.
  await ledger.getByLabel('From').fill('2099-01-01');
  await expect(ledger).toContainText('No movements in this selection.');
  // Days the wrong way round narrow nothing: no list and no export of the whole ledger.
  await ledger.getByLabel('To').fill('2098-01-01');
  await expect(ledger).toContainText('A filter above is not valid: fix it to see the list.');
  await expect(ledger.getByRole('link', { name: 'Export CSV' })).toHaveCount(0);
});

test('a reseller out of credit is told so first on its overview, live until it is paid', async ({
  browser,
}) => {
  const admin = await open(browser, '/');
  const { headers, reseller, user } = await arrangeReseller(admin, 'credit');
  // Prepaid with nothing paid: its own credit is used up.
  const current = await (
    await admin.request.get(`/api/v1/resellers/${reseller.id}`, { headers })
  ).json();
  const limited = await admin.request.patch(`/api/v1/resellers/${reseller.id}`, {
    headers,
    data: { version: current.version, creditLimit: '0' },
  });
  expect((await limited.json()).creditBlock).toBe('own');

  const person = await open(browser, '', false);
  await signIn(person, user.email, PASSWORD);
  const alert = person.getByTestId('own-credit-alert');
  await expect(alert).toContainText('Your account is out of credit');
  await expect(alert).toContainText("Your customers' calls are refused");
  // What the checks below look at is not all that is wrong.
  await expect(person.getByTestId('attention')).toContainText('Nothing else needs attention');
  // Its own account with the carrier, as a customer's overview shows its own.
  await expect(
    person.getByTestId('own-account').getByText('Blocked: no credit left'),
  ).toBeVisible();

  const paid = await admin.request.post(`/api/v1/accounts/${reseller.id}/payments`, {
    headers,
    data: { amount: '5', idempotencyKey: `credit-${reseller.id}` },
  });
  expect(paid.status()).toBe(201);
  await expect(alert).toHaveCount(0);
  await expect(person.getByTestId('attention')).toContainText('Nothing needs attention');
  await expect(
    person.getByTestId('own-account').locator('[data-amount="5.000000"]').first(),
  ).toBeVisible();
});

test('a view read before the socket joined shows a change committed in between', async ({
  browser,
}) => {
  const page = await open(browser, '');
  const { headers } = await adminApi(page.request, 'record pages join');
  // The socket's first request waits: the tab has not joined its rooms yet.
  const { connecting, release } = await holdSocket(page);
  const attentionRead = page.waitForResponse('**/api/v1/dashboard/attention');
  await page.goto('/');
  await connecting;
  // A view that reads without waiting for the join has read by now. Released within the
  // feed's 3 s (after that it refetches everything once joined, hiding the fault).
  await Promise.race([attentionRead, page.waitForTimeout(1_000)]);
  const made = await page.request.post('/api/v1/customers', {
    headers,
    data: { name: `Joined late ${Date.now()}`, creditLimit: '0' },
  });
  expect(made.status()).toBe(201);
  const customer = (await made.json()) as { name: string };
  // Committed before the join: no room of this tab hears of it. The overview shows it
  // all the same, having read once joined.
  release();
  await expect(page.getByRole('region', { name: /out of credit/ })).toContainText(customer.name);
});

test("a user's Manage tab gives it another group, live on its own page, and deletes it", async ({
  browser,
}) => {
  const admin = await open(browser, '/');
  const { headers, user } = await arrangeReseller(admin, 'regroup');
  const narrow = await admin.request.post('/api/v1/groups', {
    headers,
    data: { name: `Narrow ${Date.now()}`, grants: ['customers:read'] },
  });
  expect(narrow.status()).toBe(201);
  const narrowGroup = (await narrow.json()) as { id: string; name: string };

  // The person is signed in and looking at its own panel the whole time.
  const person = await open(browser, '', false);
  await signIn(person, user.email, PASSWORD);
  await expect(person.getByTestId('connection-indicator')).toHaveText('Live');
  const nav = person.getByRole('navigation', { name: 'Panel' });
  await expect(nav.getByRole('link', { name: 'Cards', exact: true })).toBeVisible();

  await admin.goto(`/users/${user.id}?tab=manage`);
  const change = admin.getByRole('form', { name: 'Change group' });
  // The search fails (the server away a moment): said so, never "No match", and read
  // again on asking (it read "No match" for good, nothing asking again).
  const search = (url: URL) => url.pathname === '/api/v1/groups' && url.searchParams.has('q');
  await admin.route(search, (route) => route.abort('connectionreset'));
  const group = change.getByRole('combobox', { name: 'Group' });
  await group.fill(narrowGroup.name);
  await expect(change.getByRole('alert')).toContainText('The search could not be read.');
  await expect(change.getByRole('listbox', { name: 'Group' })).toContainText(
    'The search failed: click or press Enter to try again.',
  );
  await saveScreenshot(admin, 'test-results/pages/picker-search-failed-admin-1280-light.png', {
    fullPage: false,
  });
  if (process.env.E2E_SCREENSHOTS === '1') {
    // The same state at a tablet's width, dark; back as it was for the rest.
    await admin.setViewportSize({ width: 768, height: 900 });
    await admin.emulateMedia({ colorScheme: 'dark' });
    await saveScreenshot(admin, 'test-results/pages/picker-search-failed-admin-768-dark.png', {
      fullPage: false,
    });
    await admin.emulateMedia({ colorScheme: 'light' });
    await admin.setViewportSize({ width: 1280, height: 900 });
  }
  await admin.unroute(search);
  await group.press('Enter');
  await admin.getByRole('option', { name: new RegExp(`^${narrowGroup.name}`) }).click();
  await change.getByRole('button', { name: 'Change group' }).click();
  await expect(
    admin.getByText('Group changed: their access follows it at once; their sessions go on.', {
      exact: true,
    }),
  ).toBeVisible();
  // Its panel follows at once, still signed in: what the new group does not read goes.
  await expect(nav.getByRole('link', { name: 'Cards', exact: true })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Customers', exact: true })).toBeVisible();
  await expect(person).not.toHaveURL(/\/login/);

  await admin.getByRole('button', { name: 'Delete user' }).click();
  await admin
    .getByRole('alertdialog')
    .getByRole('button', { name: 'Delete user', exact: true })
    .click();
  await expect(admin).toHaveURL(/\/users$/);
  const gone = await admin.request.get(`/api/v1/users/${user.id}`, { headers });
  expect(gone.status()).toBe(404);
  // Its panel, still open, is signed out at once. Waiting for it also keeps the teardown
  // from closing the page mid-navigation (tests/fixtures/e2e-close.ts).
  await expect(person).toHaveURL(/\/login/);
});

test('a record page deletes what nothing depends on, and says what blocks the rest', async ({
  browser,
}) => {
  const admin = await open(browser, '/');
  const { headers, reseller } = await arrangeReseller(admin, 'deletes');
  const post = async (path: string, data: object) => {
    const answer = await admin.request.post(`/api/v1${path}`, { headers, data });
    expect(answer.status(), await answer.text()).toBe(201);
    return (await answer.json()) as { id: string; name: string };
  };
  const customer = await post('/customers', { name: `Short-lived ${Date.now()}` });
  const card = await post('/cards', {
    name: `Held card ${Date.now()}`,
    currency: 'EUR',
    kind: 'customer',
  });
  await post('/assignments', { cardId: card.id, accountId: reseller.id });

  // A card assigned to an account: refused, with the reason on the page.
  await admin.goto(`/cards/${card.id}`);
  // Made by hand, following no card: its page says its calls would be refused.
  await expect(admin.getByTestId('card-prices-no-calls')).toBeVisible();
  await admin.getByRole('button', { name: 'Delete card' }).click();
  await admin.getByRole('alertdialog').getByRole('button', { name: 'Delete card' }).click();
  // The server's reason, naming what blocks it: the account the card is assigned to.
  const refusal = admin.getByRole('alert').filter({ hasText: 'remove them first' });
  await expect(refusal).toContainText(reseller.name);
  expect((await admin.request.get(`/api/v1/cards/${card.id}`, { headers })).status()).toBe(200);

  // A customer with nothing in it: asked, deleted, back to the list.
  await admin.goto(`/customers/${customer.id}`);
  await admin.getByRole('button', { name: 'Delete customer' }).click();
  await admin.getByRole('alertdialog').getByRole('button', { name: 'Delete customer' }).click();
  await expect(admin).toHaveURL(/\/customers$/);
  expect((await admin.request.get(`/api/v1/customers/${customer.id}`, { headers })).status()).toBe(
    404,
  );
});

test("a card's owner renames it and changes its rounding from its page", async ({ browser }) => {
  const admin = await open(browser, '/');
  const { headers } = await adminApi(admin.request, 'record pages card settings');
  const made = await admin.request.post('/api/v1/cards', {
    headers,
    data: { name: `Plain card ${Date.now()}`, currency: 'EUR', kind: 'provider' },
  });
  expect(made.status()).toBe(201);
  const upstream = (await made.json()) as { id: string };
  // A derived card: its page has the selling terms beside its settings.
  const derived = await admin.request.post(`/api/v1/cards/${upstream.id}/derive`, {
    headers,
    data: { name: `Derived card ${Date.now()}`, markupPercent: '10' },
  });
  expect(derived.status()).toBe(201);
  const card = (await derived.json()) as { id: string; name: string };
  await admin.goto(`/cards/${card.id}`);
  // Opened at its top: the header, the card's name and its tabs in view (the card's
  // section once scrolled itself there, as a detail opened from a list does).
  await expect(admin.getByTestId('connection-indicator')).toHaveText('Live');
  await expect(admin.getByRole('heading', { level: 1 })).toBeInViewport();
  expect(await admin.evaluate(() => window.scrollY)).toBe(0);
  const settings = admin.getByRole('form', { name: 'Card settings' });
  await settings.getByLabel('Name').fill(`${card.name} renamed`);
  await settings.getByLabel('Rounding').selectOption('up');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toHaveText(`${card.name} renamed`);
  const saved = (await (
    await admin.request.get(`/api/v1/cards/${card.id}`, { headers })
  ).json()) as { name: string; rounding: string; decimals: number };
  expect(saved).toMatchObject({ name: `${card.name} renamed`, rounding: 'up', decimals: 4 });
  await expect(admin.getByTestId('card-prices-no-calls')).toHaveCount(0);
  // Each form once, at the new version (siblings sharing a key were kept twice).
  await expect(admin.getByRole('form', { name: 'Card settings' })).toHaveCount(1);
  await expect(admin.getByRole('form', { name: 'Selling terms' })).toHaveCount(1);
  // A notice that is not a number is refused under its field, nothing saved.
  await settings.getByLabel(/^Notice of increases/).fill('soon');
  await settings.getByRole('button', { name: 'Save settings' }).click();
  await expect(settings).toContainText('whole number of hours');
});

test("a rate's effective time shows whole, in the viewer's zone", async ({ browser }) => {
  const admin = await open(browser, '', true, {
    locale: 'en-US',
    timezoneId: 'America/New_York',
  });
  const { headers } = await adminApi(admin.request, 'record pages effective time');
  const made = await admin.request.post('/api/v1/cards', {
    headers,
    data: { name: `Dated card ${Date.now()}`, currency: 'EUR', kind: 'provider' },
  });
  const card = (await made.json()) as { id: string };
  // 04:00 on New Year's Day in UTC is still New Year's Eve in New York.
  const put = await admin.request.put(`/api/v1/cards/${card.id}/rates`, {
    headers,
    data: {
      rates: [
        { prefix: '44', destination: 'UK', rate: '0.0200' },
        {
          prefix: '44',
          destination: 'UK',
          rate: '0.0300',
          effectiveFrom: '2099-01-01T04:00:00.000Z',
        },
      ],
    },
  });
  expect(put.status()).toBe(200);
  await admin.goto(`/cards/${card.id}`);
  const rows = admin.getByRole('table', { name: 'Rates' }).getByRole('row');
  await expect(rows.filter({ hasText: '0.0300' })).toContainText('Dec 31, 2098, 11:00:00 PM');
  await expect(rows.filter({ hasText: '0.0200' })).toContainText('always');
});

test('a record deleted elsewhere while open says so, and nothing on it acts any more', async ({
  browser,
}) => {
  const admin = await open(browser, '/');
  const { headers } = await adminApi(admin.request, 'record pages gone');
  const made = await admin.request.post('/api/v1/customers', {
    headers,
    data: { name: `Gone ${Date.now()}` },
  });
  expect(made.status()).toBe(201);
  const customer = (await made.json()) as { id: string; name: string };
  await admin.goto(`/customers/${customer.id}`);
  const form = admin.getByRole('form', { name: `Edit ${customer.name}` });
  await expect(form.getByRole('button', { name: 'Save changes' })).toBeEnabled();
  await expect(admin.getByTestId('record-status')).toHaveText('active');

  const deleted = await admin.request.delete(`/api/v1/customers/${customer.id}`, { headers });
  expect(deleted.status()).toBe(204);
  await expect(
    admin.getByRole('alert').filter({ hasText: 'no longer in your view' }),
  ).toBeVisible();
  // Its last copy stays readable; Save, Transfer and Delete are gone with it.
  await expect(form.getByRole('button', { name: 'Save changes' })).toBeDisabled();
  await expect(admin.getByRole('button', { name: 'Delete customer' })).toBeDisabled();
  await expect(form.getByLabel('Name')).toBeDisabled();
  await expect(admin.getByTestId('record-status')).toHaveCount(0);
});

test('the audit narrows to one person and to days, and downloads that selection', async ({
  browser,
}) => {
  const page = await open(browser, '/audit');
  const me = (await (await page.request.get('/api/v1/me')).json()) as {
    user: { id: string; email: string; name: string };
  };
  // A group's grants changed: the diff names the grant added and the one taken away.
  const { headers } = await adminApi(page.request, 'record pages audit');
  const group = await (
    await page.request.post('/api/v1/groups', {
      headers,
      data: { name: `Audited ${Date.now()}`, grants: ['customers:read', 'cards:read'] },
    })
  ).json();
  const changed = await page.request.patch(`/api/v1/groups/${group.id}`, {
    headers,
    data: { version: group.version, grants: ['customers:read', 'audit:read'] },
  });
  expect(changed.status()).toBe(200);
  await page.getByLabel('Resource').selectOption('groups');
  const diff = page.getByRole('definition').filter({ hasText: '+ audit:read' }).first();
  await expect(diff.getByLabel('added audit:read')).toBeVisible();
  await expect(diff.getByLabel('removed cards:read')).toBeVisible();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  const sentences = page.getByTestId('activity-sentence');
  // The lane's seed is the System's doing: in the whole trail, never in the admin's own.
  const totalOf = async (query: string) =>
    ((await (await page.request.get(`/api/v1/audit?limit=1${query}`)).json()) as { total: number })
      .total;
  const mine = await totalOf(`&actorId=${me.user.id}`);
  expect(mine).toBeLessThan(await totalOf(''));
  const person = page.getByRole('combobox', { name: 'Person' });
  await person.fill(me.user.email);
  const options = page.locator(`#${await person.getAttribute('aria-controls')}`);
  await options.getByRole('option', { name: new RegExp(`^${me.user.email}`) }).click();
  // The list's count is the person's (a lane runs its tests one at a time: nothing else
  // writes meanwhile).
  await expect(page.getByText(/^\d+ of \d+/)).toHaveText(new RegExp(` of ${mine}$`));
  await expect
    .poll(async () => {
      const texts = await sentences.allTextContents();
      return texts.length > 0 && texts.every((text) => text.startsWith(me.user.name));
    })
    .toBe(true);

  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const file = await readFile((await (await downloading).path())!, 'utf8');
  const [header, ...rows] = file.trim().split('\r\n');
  expect(header!.split(',').slice(0, 8)).toEqual([
    'seq',
    'at',
    'resource',
    'entityId',
    'op',
    'version',
    'description',
    'actor',
  ]);
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.every((row) => row.includes(`,${me.user.email},`))).toBe(true);

  await page.getByLabel('From day').fill('2099-01-01');
  await expect(page.getByText('Nothing in this selection.')).toBeVisible();
  await expect(sentences).toHaveCount(0);
});

test('a reseller’s brand is set, checked for contrast, given a logo and removed from its page', async ({
  browser,
}) => {
  const page = await open(browser, '/');
  const { headers } = await adminApi(page.request, 'record pages brand');
  const made = await page.request.post('/api/v1/resellers', {
    headers,
    data: { name: `Branded ${Date.now()}`, email: `brand-${Date.now()}@e2e.test` },
  });
  expect(made.status()).toBe(201);
  const reseller = (await made.json()) as { id: string; name: string };
  await page.goto(`/resellers/${reseller.id}?tab=brand`);
  // Inherited from the carrier's, or the product's look where the carrier set none.
  const none = /^No brand (of its own|here or above)/;
  await expect(page.getByTestId('brand-source')).toHaveText(none);

  const form = page.getByRole('form', { name: 'Brand' });
  await form.getByLabel('Display name').fill('Branded Voice');
  // Grey under white text: said before saving, as the server would refuse it.
  await form.getByLabel(/^Primary colour/).fill('#999999');
  await expect(form).toContainText('too faint; it needs at least 4.5:1');
  await form.getByRole('button', { name: 'Set brand' }).click();
  // The server's refusal, under the field; nothing set.
  await expect(form).toContainText('must have a contrast ratio of at least 4.5:1 with white text');
  await expect(page.getByTestId('brand-source')).toHaveText(none);
  await form.getByLabel(/^Primary colour/).fill('#1d4ed8');
  await expect(form).toContainText('enough (at least 4.5:1)');
  const host = `portal-${Date.now()}.branded.test`;
  await form.getByLabel(/^Portal hostnames/).fill(host);
  await form.getByRole('button', { name: 'Set brand' }).click();
  await expect(page.getByTestId('brand-source')).toContainText('Its own brand');
  await expect(page.getByRole('region', { name: `Brand of ${reseller.name}` })).toContainText(host);

  // A logo, as its own bytes: a 1×1 PNG.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/1Ct2WQAAAABJRU5ErkJggg==',
    'base64',
  );
  await page
    .getByLabel(/^Upload a logo/)
    .setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png });
  await expect(page.getByRole('status').filter({ hasText: 'Logo saved.' })).toBeVisible();
  await expect(page.getByRole('img', { name: 'Logo of Branded Voice' })).toBeVisible();

  await page.getByRole('button', { name: 'Remove brand' }).click();
  await page
    .getByRole('alertdialog', { name: `Remove the brand of ${reseller.name}?` })
    .getByRole('button', { name: 'Remove brand' })
    .click();
  await expect(page.getByTestId('brand-source')).toHaveText(none);
  const after = await page.request.get(`/api/v1/accounts/${reseller.id}/brand`, { headers });
  expect((await after.json()).brand).toBeNull();
});
