import Decimal from 'decimal.js';
import {
  expect,
  test,
  type APIRequestContext,
  type Browser,
  type Locator,
  type Page,
} from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminPage, signIn } from '../fixtures/e2e-sign-in';
import { saveScreenshot } from '../fixtures/e2e-screenshot';
import { expectAccessible } from '../fixtures/e2e-accessibility';
import { closeContexts } from '../fixtures/e2e-close';

/** A `datetime-local` field's value `ms` from now, in the browser's (and this process's) zone. */
function localInputIn(ms: number): string {
  const at = new Date(Date.now() + ms);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/**
 * Rate cards live across three people (issue: the panel): the carrier admin assigns a
 * card to reseller A — it shows up in A's open panel within a second, without a reload,
 * and never in reseller B's; A derives its own card from it; a rate change on the
 * carrier's card reaches A's derived card on A's screen live.
 */
const PASSWORD = 'e2e-cards-password';

// The browser outlives a test: close the people it opened, or their live pages keep
// refetching on every later change (a view-as re-scopes every tab of the admin).
test.afterEach(async ({ browser, request }, testInfo) => {
  await closeContexts(browser.contexts());
  // A test that failed while viewing as someone leaves the admin read-only for the specs
  // after it in the lane: end the view, so only the failing test fails.
  if (testInfo.status !== testInfo.expectedStatus) {
    const token = (await (await request.post('/api/v1/auth/token', { data: E2E_ADMIN })).json())
      .token as string;
    await request.fetch('/api/v1/impersonation', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
  }
});

/** A reseller user's own browser, signed in through the form, on the cards page, live. */
async function signedIn(browser: Browser, email: string, password: string): Promise<Page> {
  const page = await (
    await browser.newContext({ viewport: { width: 1280, height: 900 } })
  ).newPage();
  await signIn(page, email, password);
  return onCards(page);
}

/** The carrier admin's browser (the run's stored session), on the cards page, live. */
async function adminSignedIn(browser: Browser): Promise<Page> {
  return onCards(await adminPage(browser));
}

async function onCards(page: Page): Promise<Page> {
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Cards', exact: true })
    .click();
  await expect(page.getByText('Live', { exact: true })).toBeVisible();
  return page;
}

/** Opens a record from its list, as a person does: its name links to its own page. */
async function openRecord(page: Page, table: string, name: string): Promise<void> {
  await page.getByRole('table', { name: table }).getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name, exact: true })).toBeVisible();
}

/** The server-searched account picker: type the name, take its option by keyboard. */
async function pickAccount(combobox: Locator, name: string, detail = /.*/) {
  await combobox.fill(name);
  const list = combobox.page().locator(`#${await combobox.getAttribute('aria-controls')}`);
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const option = list.getByRole('option', { name: new RegExp(`^${escaped}`) });
  await expect(option).toHaveCount(1);
  await expect(option).toHaveAccessibleName(detail);
  // The search has answered (debounced): the match leads the list.
  await expect(list.getByRole('option').first()).toHaveAccessibleName(new RegExp(`^${escaped}`));
  await combobox.press('ArrowDown');
  await combobox.press('Enter');
  await expect(combobox).toHaveValue(name);
}

/** The carrier admin's API, by bearer token, for the set-up that is not under test. */
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

test('a card assigned to reseller A appears live for A only; a rate change reaches A’s derived card live', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  const group = await api('POST', '/groups', { template: 'default-reseller', name: 'E2E cards' });
  const reseller = async (name: string) =>
    (await api('GET', `/resellers?q=${encodeURIComponent(name)}`)).items[0].id as string;
  const people = [
    ['ops-a@acme-voice.test', await reseller('Acme Voice')],
    ['ops-b@bluetel.test', await reseller('Blue Telecom')],
  ] as const;
  for (const [email, accountId] of people) {
    await api('POST', '/users', { email, password: PASSWORD, accountId, groupId: group.id });
  }
  const card = await api('POST', '/cards', { name: 'E2E Sell', currency: 'EUR', kind: 'customer' });
  await api('PUT', `/cards/${card.id}/rates`, {
    rates: [{ prefix: '44', destination: 'United Kingdom', rate: '0.0200' }],
  });

  const admin = await adminSignedIn(browser);
  const a = await signedIn(browser, people[0][0], PASSWORD);
  const b = await signedIn(browser, people[1][0], PASSWORD);
  const providerCards = (page: Page) => page.getByRole('table', { name: 'Provider cards' });
  await expect(
    providerCards(a).getByRole('cell', { name: 'Carrier Retail', exact: true }),
  ).toBeVisible();
  await expect(providerCards(a).getByRole('cell', { name: 'E2E Sell', exact: true })).toHaveCount(
    0,
  );
  await expect(a.getByTestId('notification-count')).toHaveCount(0);
  // Each list names a card's owner: the viewer, the account below that owns it (from its
  // record, a link to it), or "Assigned to you" for a card bought from above.
  const ownerOf = (page: Page, table: string, name: string) =>
    page
      .getByRole('table', { name: table })
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name, exact: true }) })
      .getByRole('cell')
      .nth(1);
  await expect(ownerOf(a, 'Provider cards', 'Carrier Retail')).toHaveText('Assigned to you');
  await expect(ownerOf(a, 'Customer cards', 'Acme Standard')).toHaveText('You');
  await expect(ownerOf(admin, 'Customer cards', 'E2E Sell')).toHaveText('You');
  await expect(
    ownerOf(admin, 'Customer cards', 'Blue Retail').getByRole('link', { name: 'Blue Telecom' }),
  ).toHaveAttribute('href', `/resellers/${people[1][1]}`);
  // The owners are read a hundred to a request (`?ids=`), never a record request each.
  const ownerReads: string[] = [];
  admin.on('request', (sent) => {
    const { pathname, searchParams } = new URL(sent.url());
    const match = /^\/api\/v1\/(resellers|customers)(\/[0-9a-f-]{36})?$/.exec(pathname);
    if (match?.[2]) ownerReads.push(`one ${match[1]}`);
    else if (match && searchParams.has('ids')) ownerReads.push(`named ${match[1]}`);
  });
  await admin.reload();
  await expect(
    ownerOf(admin, 'Customer cards', 'Blue Retail').getByRole('link', { name: 'Blue Telecom' }),
  ).toBeVisible();
  expect(ownerReads.filter((read) => read.startsWith('one '))).toEqual([]);
  expect([...new Set(ownerReads)].sort()).toEqual(['named customers', 'named resellers']);
  // And live: the owner renamed by someone else is renamed in the column.
  const blue = await api('GET', `/resellers/${people[1][1]}`);
  const renamed = await api('PATCH', `/resellers/${blue.id}`, {
    version: blue.version,
    name: 'Blue Telecom Group',
  });
  await expect(
    ownerOf(admin, 'Customer cards', 'Blue Retail').getByRole('link', {
      name: 'Blue Telecom Group',
    }),
  ).toBeVisible();
  await api('PATCH', `/resellers/${blue.id}`, { version: renamed.version, name: 'Blue Telecom' });
  await expect(
    ownerOf(admin, 'Customer cards', 'Blue Retail').getByRole('link', {
      name: 'Blue Telecom',
      exact: true,
    }),
  ).toBeVisible();

  // The carrier admin assigns it through the panel, on the card's own page.
  await openRecord(admin, 'Customer cards', 'E2E Sell');
  const assign = admin.getByRole('form', { name: 'Assign card' });
  await pickAccount(
    assign.getByRole('combobox', { name: 'Assign to' }),
    'Acme Voice',
    /^Acme Voice\s*reseller\b/,
  );
  await assign.getByRole('button', { name: 'Assign' }).click();
  await expect(providerCards(a).getByRole('cell', { name: 'E2E Sell', exact: true })).toBeVisible({
    timeout: 1_000,
  });
  await expect(admin.getByRole('table', { name: 'Assignments' })).toContainText('Acme Voice');
  // A's bell counts the notice live; A reads it there and marks it read.
  await expect(a.getByTestId('notification-count')).toHaveText('1');
  await a.getByTestId('notification-bell').click();
  const notices = a.getByRole('region', { name: 'Notifications' });
  await expect(
    notices.getByRole('link', { name: 'Card E2E Sell assigned to your account' }),
  ).toBeVisible();
  // Whole on screen at either width: at 768 px the header wraps and the bell starts its
  // second row at the left edge, where a panel hung from the bell's right edge ran off.
  for (const width of [768, 1280]) {
    await a.setViewportSize({ width, height: 800 });
    await expect
      .poll(async () => {
        const box = await notices.boundingBox();
        return box !== null && box.x >= 0 && box.x + box.width <= width;
      }, `the notices whole within ${width} px`)
      .toBe(true);
  }
  await notices
    .getByRole('button', { name: 'Mark “Card E2E Sell assigned to your account” read' })
    .click();
  await expect(a.getByTestId('notification-count')).toHaveCount(0);
  await a.keyboard.press('Escape');
  await expect(notices).toHaveCount(0);
  await expect(b.getByTestId('notification-count')).toHaveCount(0);
  // B's panel, live the whole time, shows what B holds (the demo gives it the carrier's
  // retail card) and never A's new card.
  await expect(
    providerCards(b).getByRole('cell', { name: 'Carrier Retail', exact: true }),
  ).toBeVisible();
  await expect(providerCards(b).getByRole('cell', { name: 'E2E Sell', exact: true })).toHaveCount(
    0,
  );

  // A sees only the assignee view (its buy price), and derives its own card from it.
  await openRecord(a, 'Provider cards', 'E2E Sell');
  await expect(a.getByText('Assigned to you (your buy price)')).toBeVisible();
  await expect(a.getByRole('table', { name: 'Rates' })).toContainText('0.0200');
  const derive = a.getByRole('form', { name: 'Derive a customer card' });
  await derive.getByLabel('Name').fill('Acme retail');
  // Billed by the second at no markup it sells a short call below its 60/60 cost: asked
  // about first, and declined, nothing is derived.
  await derive.getByLabel('Markup %').fill('0');
  await derive.getByLabel('Initial (s)').fill('1');
  await derive.getByLabel('Increment (s)').fill('1');
  await derive.getByRole('button', { name: 'Derive' }).click();
  const atLoss = a.getByRole('alertdialog');
  await expect(atLoss).toContainText('Derive Acme retail at a loss?');
  await expect(atLoss).toContainText('1 of the 1 rows previewed sell below what E2E Sell costs');
  await atLoss.getByRole('button', { name: 'Cancel' }).click();
  await expect(atLoss).toHaveCount(0);
  expect((await api('GET', '/cards?q=Acme%20retail')).items).toEqual([]);
  // Derived anyway (under another name), the toast gives the server's exact count.
  await derive.getByLabel('Name').fill('Acme at a loss');
  await derive.getByRole('button', { name: 'Derive' }).click();
  await atLoss.getByRole('button', { name: 'Derive anyway' }).click();
  await expect(
    a.getByText('Card Acme at a loss derived from E2E Sell: 1 row loses money.'),
  ).toBeVisible();
  await derive.getByLabel('Name').fill('Acme retail');
  await derive.getByLabel('Initial (s)').fill('');
  await derive.getByLabel('Increment (s)').fill('');
  await derive.getByLabel('Markup %').fill('50');
  // A rule left blank is refused with its reason on the form, not silently.
  await derive.getByRole('button', { name: 'Add a rule' }).click();
  await derive.getByRole('button', { name: 'Derive' }).click();
  await expect(derive.getByRole('alert')).toContainText('Rules: ');
  await derive.getByRole('button', { name: 'Remove rule 1' }).click();
  await expect(derive.getByRole('table', { name: 'Markup preview' })).toContainText('0.0300');
  await derive.getByRole('button', { name: 'Derive' }).click();
  // The new card is in A's list; its page shows the marked-up rate.
  await a
    .getByRole('navigation', { name: 'Breadcrumb' })
    .getByRole('link', { name: 'Cards', exact: true })
    .click();
  await openRecord(a, 'Customer cards', 'Acme retail');
  const rates = a.getByRole('table', { name: 'Rates' });
  await expect(rates.getByRole('cell', { name: '€0.0300', exact: true })).toBeVisible();
  await saveScreenshot(a, 'test-results/cards-reseller.png');

  // The carrier changes its card's rate: A's derived card follows, on A's screen.
  await api('PUT', `/cards/${card.id}/rates`, {
    rates: [{ prefix: '44', destination: 'United Kingdom', rate: '0.0400' }],
  });
  await expect(rates.getByRole('cell', { name: '€0.0600', exact: true })).toBeVisible({
    timeout: 2_000,
  });
  await expect(providerCards(b).getByRole('cell', { name: 'E2E Sell', exact: true })).toHaveCount(
    0,
  );
  await saveScreenshot(admin, 'test-results/cards-carrier.png');

  // The price trace shows the chain as the carrier sees it.
  await admin
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Price trace', exact: true })
    .click();
  const account = admin.getByRole('combobox', { name: 'Account' });
  // It shows the carrier's own account; typing into it starts a new search, not one
  // after the name shown.
  await expect(account).not.toHaveValue('');
  await account.click();
  await account.pressSequentially('Acme');
  await expect(account).toHaveValue('Acme');
  await pickAccount(account, 'Acme Voice', /reseller/);
  await admin.getByLabel('Dialled number').fill('+44 20 7946 0000'.replace(/\s/g, ''));
  await admin.getByRole('button', { name: 'Trace' }).click();
  await expect(admin.getByRole('table', { name: 'Chain of Acme retail' })).toContainText('0.0600');
  const traced = admin.getByTestId('traced');
  await expect(traced).toHaveText(/^Traced \+?442079460000, a 60 s call, priced now\.$/);
  // A long call's length reads as people say it.
  await admin.getByLabel('Call length (seconds)').fill('3725');
  await admin.getByRole('button', { name: 'Trace' }).click();
  await expect(traced).toHaveText(/^Traced \+?442079460000, a 1 h 2 min 5 s call, priced now\.$/);
  await admin.getByLabel('Call length (seconds)').fill('60');
  // A wrong number next is refused by the form; the chain still says whose it is.
  await admin.getByLabel('Dialled number').fill('call me');
  await admin.getByRole('button', { name: 'Trace' }).click();
  await expect(admin.getByLabel('Dialled number')).toHaveAttribute('aria-invalid', 'true');
  await expect(traced).toContainText('442079460000');
  await saveScreenshot(admin, 'test-results/price-trace.png');
});

test('a revision scheduled for tomorrow: its diff, the holder told live, cancelled; a rollback', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  // A customer card held by a reseller whose user watches its own panel.
  const card = await api('POST', '/cards', {
    name: 'E2E Revisions',
    currency: 'EUR',
    kind: 'customer',
  });
  await api('PUT', `/cards/${card.id}/rates`, {
    rates: [
      { prefix: '44', destination: 'United Kingdom', rate: '0.0200' },
      { prefix: '33', destination: 'France', rate: '0.0150' },
    ],
  });
  const group = await api('POST', '/groups', {
    template: 'default-reseller',
    name: 'E2E revision buyers',
  });
  const holderAccount = await api('POST', '/resellers', {
    name: 'E2E Revision Buyer',
    email: 'buyer@revisions.test',
  });
  await api('POST', '/users', {
    email: 'ops@revisions.test',
    password: PASSWORD,
    accountId: holderAccount.id,
    groupId: group.id,
  });
  await api('POST', '/assignments', { cardId: card.id, accountId: holderAccount.id });
  const holder = await signedIn(browser, 'ops@revisions.test', PASSWORD);
  await expect(holder.getByTestId('notification-count')).toHaveText('1'); // the assignment

  const admin = await adminSignedIn(browser);
  await openRecord(admin, 'Customer cards', 'E2E Revisions');
  await admin
    .getByRole('navigation', { name: 'Card sections' })
    .getByRole('link', { name: 'Revisions' })
    .click();
  await expect(admin.getByTestId('revision-1-state')).toHaveText('live');

  const form = admin.getByRole('form', { name: 'Schedule a revision' });
  await form.getByLabel(/^File/).setInputFiles({
    name: 'deck.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('prefix,destination,rate\n44,United Kingdom,0.0250\n49,Germany,0.0300\n'),
  });
  await form.getByLabel('Goes live at (empty: now)').fill(localInputIn(86_400_000));
  await form.getByRole('button', { name: 'Schedule' }).click();
  await expect(form.getByRole('status')).toContainText('Revision 2 goes live');
  // The list under the card refetches live: revision 2 waits for its date.
  await expect(admin.getByTestId('revision-2-state')).toHaveText('scheduled');
  await expect(admin.getByTestId('revision-1-state')).toHaveText('live');

  // The holder hears of it on its open panel, without a reload: what changes, and when.
  await expect(holder.getByTestId('notification-count')).toHaveText('2');
  await holder.getByTestId('notification-bell').click();
  const notices = holder.getByRole('region', { name: 'Notifications' });
  await expect(notices).toContainText('E2E Revisions: new rates from');
  await expect(notices).toContainText('1 prefix up, 1 new, 1 removed');

  await admin.getByRole('button', { name: 'Diff of revision 2' }).click();
  const diff = admin.getByRole('region', { name: 'Diff of revision 2' });
  await expect(diff.getByTestId('diff-increased')).toHaveText('1 increased');
  await expect(diff.getByTestId('diff-new')).toHaveText('1 new');
  await expect(diff.getByTestId('diff-removed')).toHaveText('1 removed');
  const rows = diff.getByRole('table', { name: 'Rows of revision 2' });
  await expect(rows).toContainText('Increased');
  await expect(rows).toContainText('0.0250');
  await diff.getByLabel('Show').selectOption('removed');
  await expect(rows).toContainText('France');
  await expect(rows).not.toContainText('Germany');
  await saveScreenshot(admin, 'test-results/card-revisions.png');

  await admin.getByRole('button', { name: 'Cancel revision 2' }).click();
  await admin
    .getByRole('alertdialog', { name: 'Cancel revision 2?' })
    .getByRole('button', { name: 'Cancel revision' })
    .click();
  await expect(admin.getByTestId('revision-2-state')).toHaveText('cancelled');

  // A new deck live now supersedes revision 1; rolling back copies it as revision 4.
  await api('PUT', `/cards/${card.id}/rates`, {
    rates: [{ prefix: '44', destination: 'United Kingdom', rate: '0.0300' }],
  });
  await expect(admin.getByTestId('revision-3-state')).toHaveText('live');
  await expect(admin.getByTestId('revision-1-state')).toHaveText('superseded');
  await admin.getByRole('button', { name: 'Roll back to revision 1' }).click();
  await admin
    .getByRole('alertdialog', { name: 'Roll back to revision 1?' })
    .getByRole('button', { name: 'Roll back' })
    .click();
  await expect(admin.getByTestId('revision-4-state')).toHaveText('live');
  await expect(admin.getByTestId('revision-3-state')).toHaveText('superseded');
  await admin
    .getByRole('navigation', { name: 'Card sections' })
    .getByRole('link', { name: 'Card', exact: true })
    .click();
  const rates = admin.getByRole('table', { name: 'Rates' });
  await expect(rates).toContainText('France');
  await expect(rates).toContainText('0.0200');
});

test('a replacing import asks first: cancelled, nothing changes; a merge does not ask', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  const card = await api('POST', '/cards', {
    name: 'E2E Import',
    currency: 'EUR',
    kind: 'customer',
  });
  await api('PUT', `/cards/${card.id}/rates`, {
    rates: [
      { prefix: '44', destination: 'United Kingdom', rate: '0.0200' },
      { prefix: '33', destination: 'France', rate: '0.0150' },
    ],
  });
  const admin = await adminSignedIn(browser);
  await openRecord(admin, 'Customer cards', 'E2E Import');
  const form = admin.getByRole('form', { name: 'Import rates' });
  const file = (rows: string) => ({
    name: 'uk.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(`prefix,destination,rate\n${rows}`),
  });
  const rateCount = async () =>
    (await api('GET', `/cards/${card.id}/rates?limit=500`)).items.length;

  await form.getByLabel(/^File/).setInputFiles(file('44,United Kingdom,0.0250\n'));
  await form.getByRole('button', { name: 'Import' }).click();
  const ask = admin.getByRole('alertdialog', { name: 'Replace every rate of E2E Import?' });
  await expect(ask).toContainText('every prefix the file does not list is removed');
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(ask).toBeHidden();
  expect(await rateCount()).toBe(2);

  // Merge adds and updates only: no question.
  await form.getByLabel('Mode').selectOption('merge');
  await form.getByRole('button', { name: 'Import' }).click();
  await expect(form.getByRole('status')).toHaveText('Imported: the card now has 2 rates.');
  await expect(admin.getByRole('alertdialog')).toHaveCount(0);

  await form.getByLabel('Mode').selectOption('replace');
  await form.getByRole('button', { name: 'Import' }).click();
  await ask.getByRole('button', { name: 'Replace rates' }).click();
  await expect(form.getByRole('status')).toHaveText('Imported: the card now has 1 rates.');
  expect(await rateCount()).toBe(1);

  // A replace on the Revisions tab going live now asks the same; cancelled, nothing moves.
  await admin
    .getByRole('navigation', { name: 'Card sections' })
    .getByRole('link', { name: 'Revisions' })
    .click();
  const schedule = admin.getByRole('form', { name: 'Schedule a revision' });
  await schedule.getByLabel(/^File/).setInputFiles(file('33,France,0.0100\n'));
  await schedule.getByRole('button', { name: 'Schedule' }).click();
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(ask).toBeHidden();
  expect(await rateCount()).toBe(1);
});

test('one rate changed, added and removed by hand; the card derived from it follows live', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  const card = await api('POST', '/cards', {
    name: 'E2E By hand',
    currency: 'EUR',
    kind: 'provider',
  });
  await api('PUT', `/cards/${card.id}/rates`, {
    rates: [
      { prefix: '44', destination: 'United Kingdom', rate: '0.0200' },
      { prefix: '33', destination: 'France', rate: '0.0150' },
    ],
  });
  const sold = await api('POST', `/cards/${card.id}/derive`, {
    name: 'E2E By hand sold',
    markupPercent: '50',
  });
  const admin = await adminSignedIn(browser);
  // The derived card in a second tab: it follows every change live.
  const watcher = await adminSignedIn(browser);
  await openRecord(watcher, 'Customer cards', 'E2E By hand sold');
  const soldRates = watcher.getByRole('table', { name: 'Rates' });
  await expect(soldRates).toContainText('France');

  await openRecord(admin, 'Provider cards', 'E2E By hand');
  const rates = admin.getByRole('table', { name: 'Rates' });
  await rates.getByRole('button', { name: 'Edit 44 United Kingdom' }).click();
  const form = admin.getByRole('form', { name: 'Edit a rate' });
  await expect(form.getByRole('heading', { name: 'Change 44 (United Kingdom)' })).toBeFocused();
  await expect(form.getByLabel('Rate per minute (EUR)')).toHaveValue('0.0200');
  // Finer than the card's precision: refused under the field, nothing saved.
  await form.getByLabel('Rate per minute (EUR)').fill('0.000001');
  await form.getByRole('button', { name: 'Save rate' }).click();
  // Under the field itself (the server names `upsert.0.rate`), not as the form's message.
  await expect(form.getByLabel('Rate per minute (EUR)')).toHaveAccessibleDescription(
    /6 decimals; the card prices to 4/,
  );
  await expect(form.getByRole('alert')).toHaveCount(0);
  await form.getByLabel('Rate per minute (EUR)').fill('0.0300');
  await form.getByRole('button', { name: 'Save rate' }).click();
  await expect(rates.getByRole('row', { name: /^44 United Kingdom/ })).toContainText('0.03');
  await expect(soldRates.getByRole('row', { name: /^44 United Kingdom/ })).toContainText('0.045');

  // A new prefix is asked first, then priced here and on the derived card.
  await form.getByLabel('Prefix').fill('49');
  await form.getByLabel('Destination').fill('Germany');
  await form.getByLabel('Rate per minute (EUR)').fill('0.0100');
  await form.getByRole('button', { name: 'Save rate' }).click();
  await admin
    .getByRole('alertdialog', { name: 'Set the rate of 49 on E2E By hand?' })
    .getByRole('button', { name: 'Save rate' })
    .click();
  await expect(rates).toContainText('Germany');
  await expect(soldRates).toContainText('Germany');

  // Removed, asked first: gone from both cards.
  await rates.getByRole('button', { name: 'Edit 33 France' }).click();
  await form.getByRole('button', { name: 'Remove rate' }).click();
  const ask = admin.getByRole('alertdialog', { name: 'Remove 33 from E2E By hand?' });
  await ask.getByRole('button', { name: 'Remove rate' }).click();
  await expect(rates).not.toContainText('France');
  await expect(soldRates).not.toContainText('France');
  expect(
    (await api('GET', `/cards/${sold.id}/rates?limit=500`)).items.map(
      (row: { prefix: string }) => row.prefix,
    ),
  ).toEqual(['44', '49']);
  // A dated row already in force: its new terms apply from now (a row dated now), since
  // it cannot change at its own date and an undated row would not apply over it.
  const soon = new Date(Date.now() + 1_500).toISOString();
  await api('PATCH', `/cards/${card.id}/rates`, {
    upsert: [{ prefix: '49', destination: 'Germany', rate: '0.0120', effectiveFrom: soon }],
  });
  await expect(rates.getByRole('button', { name: 'Edit 49 Germany' })).toHaveCount(2);
  await expect.poll(() => Date.now()).toBeGreaterThan(Date.parse(soon) + 100);
  await rates.getByRole('button', { name: 'Edit 49 Germany' }).last().click();
  await expect(form).toContainText('This row has applied since');
  await form.getByLabel('Rate per minute (EUR)').fill('0.0150');
  await form.getByRole('button', { name: 'Save rate' }).click();
  await expect(rates.getByRole('button', { name: 'Edit 49 Germany' })).toHaveCount(3);
  const price = await api(
    'GET',
    `/rates/lookup?accountId=${(await api('GET', '/me')).account.id}&cardId=${card.id}&number=4930123`,
  );
  expect(price.levels[0].rate).toBe('0.0150');
  // Scheduled for later (a card with notice of increases needs it): nothing moves now.
  await rates.getByRole('button', { name: 'Edit 44 United Kingdom' }).click();
  await form.getByLabel('Rate per minute (EUR)').fill('0.0350');
  await form.getByLabel('Goes live at (empty: now)').fill(localInputIn(2 * 86_400_000));
  await form.getByRole('button', { name: 'Save rate' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'goes live' })).toContainText(
    '44 on E2E By hand: goes live',
  );
  const revisions = (await api('GET', `/cards/${card.id}/revisions`)).items;
  expect(revisions[0].state).toBe('scheduled');
  await expect(rates.getByRole('row', { name: /^44 United Kingdom/ })).toContainText('0.0300');
  await api('DELETE', `/cards/${card.id}/revisions/${revisions[0].number}`);
  // A colleague changes the row while this form is open: the save is refused and says
  // what the row holds now, instead of putting the old fee back unseen.
  await rates.getByRole('button', { name: 'Edit 44 United Kingdom' }).click();
  await expect(form.getByLabel('Connection fee (EUR)')).toHaveValue('0.0000');
  await api('PATCH', `/cards/${card.id}/rates`, {
    upsert: [
      { prefix: '44', destination: 'United Kingdom', rate: '0.0300', connectionFee: '0.0100' },
    ],
  });
  await form.getByLabel('Rate per minute (EUR)').fill('0.0330');
  await form.getByRole('button', { name: 'Save rate' }).click();
  await expect(form.getByTestId('rate-changed-since')).toContainText(/connection fee 0\.01/);
  const uk = async () =>
    (await api('GET', `/cards/${card.id}/rates?prefix=44`)).items[0] as {
      rate: string;
      connectionFee: string;
    };
  expect(await uk()).toMatchObject({ rate: '0.0300', connectionFee: '0.0100' });
  // Saved again, knowingly: this form's terms apply over theirs.
  await form.getByRole('button', { name: 'Save rate' }).click();
  await expect(rates.getByRole('row', { name: /^44 United Kingdom/ })).toContainText('0.033');
  expect((await uk()).rate).toBe('0.0330');
  // The derived card offers no editing: its rates follow its parent.
  await expect(soldRates.getByRole('button', { name: /^Edit / })).toHaveCount(0);
  await expect(watcher.getByRole('form', { name: 'Edit a rate' })).toHaveCount(0);
});

test('assigning a card to a customer billed on another asks first', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  const rates = { rates: [{ prefix: '44', destination: 'United Kingdom', rate: '0.0200' }] };
  const old = await api('POST', '/cards', {
    name: 'E2E Old Deal',
    currency: 'EUR',
    kind: 'customer',
  });
  await api('PUT', `/cards/${old.id}/rates`, rates);
  const next = await api('POST', '/cards', {
    name: 'E2E New Deal',
    currency: 'EUR',
    kind: 'customer',
  });
  await api('PUT', `/cards/${next.id}/rates`, rates);
  const holder = await api('POST', '/customers', { name: 'E2E Deal Holder' });
  await api('POST', '/assignments', { cardId: old.id, accountId: holder.id });
  const billedOn = async () =>
    (await api('GET', `/assignments?accountId=${holder.id}`)).items.map(
      (item: { cardName: string }) => item.cardName,
    );

  const admin = await adminSignedIn(browser);
  await openRecord(admin, 'Customer cards', 'E2E New Deal');
  const assign = admin.getByRole('form', { name: 'Assign card' });
  await pickAccount(assign.getByRole('combobox', { name: 'Assign to' }), 'E2E Deal Holder');
  await assign.getByRole('button', { name: 'Assign' }).click();
  const ask = admin.getByRole('alertdialog', { name: "Replace E2E Deal Holder's card?" });
  await expect(ask).toContainText('billed on E2E Old Deal now');
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(ask).toBeHidden();
  expect(await billedOn()).toEqual(['E2E Old Deal']);

  await assign.getByRole('button', { name: 'Assign' }).click();
  await ask.getByRole('button', { name: 'Replace card' }).click();
  await expect(admin.getByRole('table', { name: 'Assignments' })).toContainText('E2E Deal Holder');
  expect(await billedOn()).toEqual(['E2E New Deal']);
});

test('the transfer wizard moves a customer with its new card after a summary', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  const me = await api('GET', '/me');
  const hotel = (await api('GET', '/customers?q=Hotel%20Alpine')).items[0];
  const admin = await adminSignedIn(browser);
  await admin
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Customers', exact: true })
    .click();
  await openRecord(admin, 'Customers', 'Hotel Alpine');
  const wizard = admin.getByRole('form', { name: 'Transfer customer' });
  await pickAccount(
    wizard.getByRole('combobox', { name: 'Move to' }),
    me.account.name,
    /your account/,
  );
  await pickAccount(wizard.getByRole('combobox', { name: 'Card there' }), 'Carrier Retail', /EUR/);
  await wizard.getByRole('button', { name: 'Review transfer' }).click();
  // The review first, on the page and nothing over it; then the move is asked for.
  await expect(wizard.getByRole('region', { name: 'What the transfer changes' })).toBeVisible();
  await expect(admin.getByRole('alertdialog')).toHaveCount(0);
  // Each destination compared says how much a 60 s call's price moves: worked out here
  // from the two prices the row shows (the currency is kept).
  const compared = wizard.getByRole('table', { name: 'Old and new card compared' });
  await expect(compared.getByRole('columnheader', { name: 'Change (60 s)' })).toBeVisible();
  const rows = compared.getByRole('row').filter({ has: admin.getByRole('cell') });
  expect(await rows.count()).toBeGreaterThan(0);
  for (const row of await rows.all()) {
    const cells = row.getByRole('cell');
    const price60 = async (index: number) =>
      new Decimal(/60 s: €([\d.]+)/.exec(await cells.nth(index).innerText())![1]!);
    const [now, after] = [await price60(1), await price60(2)];
    const percent = after.div(now).minus(1).times(100).toDecimalPlaces(1, Decimal.ROUND_HALF_UP);
    const expected = percent.isZero()
      ? '0%'
      : `${percent.isNegative() ? '−' : '+'}${percent.abs().toString()}%`;
    await expect(cells.nth(3)).toHaveText(expected);
  }
  // Its balance moves while the review is read (a payment; calls do so at call rate): the
  // confirmation quotes it as it is then, not as reviewed.
  await api('POST', `/accounts/${hotel.id}/payments`, {
    amount: '5',
    idempotencyKey: `transfer-review-${hotel.id}`,
  });
  const paid = Number((await api('GET', `/customers/${hotel.id}`)).balance).toFixed(2);
  await wizard.getByRole('button', { name: 'Transfer Hotel Alpine…' }).click();
  const summary = admin.getByRole('alertdialog', { name: 'Transfer Hotel Alpine?' });
  await expect(summary).toContainText(`Its balance (€${paid}) moves with it`);
  await expect(summary).toContainText(
    `Move Hotel Alpine from Acme Voice to ${me.account.name}, billed on Carrier Retail`,
  );
  await saveScreenshot(admin, 'test-results/transfer-wizard.png');
  await summary.getByRole('button', { name: 'Confirm transfer' }).click();
  await expect(summary).toHaveCount(0);
  await expect
    .poll(async () => (await api('GET', `/customers/${hotel.id}`)).parentId)
    .toBe(me.account.id);
  const retail = (await api('GET', '/cards?q=Carrier%20Retail')).items[0].id;
  const held = await api('GET', `/assignments?accountId=${hotel.id}`);
  expect(held.items.map((row: { cardId: string }) => row.cardId)).toEqual([retail]);
});

test('the transfer wizard refuses a move to another currency without a conversion rate', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  // A reseller kept in USD, holding a USD customer card of its own (made by its user).
  const group = await api('POST', '/groups', {
    template: 'default-reseller',
    name: 'E2E dollar sellers',
  });
  const dollars = await api('POST', '/resellers', {
    name: 'E2E Dollar Reseller',
    email: 'dollar@e2e.test',
    currency: 'USD',
  });
  await api('POST', '/users', {
    email: 'ops@dollar.test',
    password: PASSWORD,
    accountId: dollars.id,
    groupId: group.id,
  });
  const issued = await request.post('/api/v1/auth/token', {
    data: { email: 'ops@dollar.test', password: PASSWORD, name: 'e2e dollar card' },
  });
  expect(issued.status()).toBe(201);
  const made = await request.post('/api/v1/cards', {
    headers: { authorization: `Bearer ${(await issued.json()).token}` },
    data: { name: 'E2E Dollar Retail', currency: 'USD', kind: 'customer' },
  });
  expect(made.status()).toBe(201);
  const clinic = (await api('GET', '/customers?q=Clinic%20Borealis')).items[0];

  const admin = await adminSignedIn(browser);
  await admin.goto(`/customers/${clinic.id}`);
  await expect(admin.getByRole('heading', { level: 1, name: 'Clinic Borealis' })).toBeVisible();
  const wizard = admin.getByRole('form', { name: 'Transfer customer' });
  await pickAccount(wizard.getByRole('combobox', { name: 'Move to' }), 'E2E Dollar Reseller');
  await pickAccount(
    wizard.getByRole('combobox', { name: 'Card there' }),
    'E2E Dollar Retail',
    /USD/,
  );
  await wizard.getByRole('button', { name: 'Review transfer' }).click();
  // The dry run answers before anything is asked: refused, and nothing moved.
  const preview = wizard.getByRole('region', { name: 'What the transfer changes' });
  await expect(preview.getByRole('alert')).toContainText(
    'Refused: the customer is kept in EUR and E2E Dollar Reseller in USD',
  );
  await expect(admin.getByRole('alertdialog')).toHaveCount(0);
  // Nothing to go on to: the button still asks for a review.
  await expect(wizard.getByRole('button', { name: 'Review transfer' })).toBeVisible();
  expect((await api('GET', `/customers/${clinic.id}`)).parentId).toBe(clinic.parentId);
});

test('a card built by hand is compared with a provider card; its losing row shows what it is bought at', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  // Above the upstream 44 (0.0090) but below its longer 447 (0.0250) and 441481 Guernsey
  // (0.1400): numbers this row sells lose money, the Guernsey ones most.
  const card = await api('POST', '/cards', {
    name: 'E2E Assured UK',
    currency: 'EUR',
    kind: 'customer',
  });
  await api('PUT', `/cards/${card.id}/rates`, {
    rates: [
      {
        prefix: '44',
        destination: 'United Kingdom',
        rate: '0.0150',
        initialIncrement: 30,
        increment: 6,
      },
    ],
  });
  const admin = await adminSignedIn(browser);
  await admin.goto(`/cards/${card.id}`);
  await expect(admin.getByRole('heading', { level: 1, name: 'E2E Assured UK' })).toBeVisible();
  // Nothing compared yet: no report.
  await expect(admin.getByRole('table', { name: 'Losing rows' })).toHaveCount(0);
  const compare = admin.getByRole('form', { name: 'Compare with' });
  // The derive form on the same page offers the same provider cards to follow (it read
  // them under the list's key in another shape, and offered none).
  await expect(
    admin
      .getByRole('form', { name: 'Derive a customer card' })
      .getByRole('group', { name: /Also follow/ })
      .getByRole('checkbox', { name: 'Upstream Wholesale' }),
  ).toBeVisible();
  await compare.getByRole('checkbox', { name: 'Upstream Wholesale' }).check();
  await compare.getByRole('button', { name: 'Save comparison' }).click();
  const losing = admin.getByRole('table', { name: 'Losing rows' });
  await expect(losing.getByRole('row')).toHaveCount(2);
  await expect(losing.getByRole('row').nth(1)).toContainText('44');
  await expect(losing.getByRole('row').nth(1)).toContainText(
    'Upstream Wholesale 441481 at €0.1400',
  );
  // The form and the report pass the accessibility scan the other pages do.
  await expectAccessible(admin, `/cards/${card.id} comparing`);
  await saveScreenshot(admin, 'test-results/compare-with.png');
  expect((await api('GET', `/cards/${card.id}`)).compareWith).toHaveLength(1);
  // The list counts losing rows as a derived card's are priced: this card, whose losses
  // the report above holds, shows no count there rather than a "0".
  await admin.goto('/cards');
  const listed = admin
    .getByRole('table', { name: 'Customer cards' })
    .getByRole('row')
    .filter({ has: admin.getByRole('link', { name: 'E2E Assured UK', exact: true }) });
  await expect(listed.getByRole('cell').nth(5)).toHaveText('—');
});

test('the dashboard counts and the activity feed follow changes live; reseller details; the audit log filters', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  const admin = await adminSignedIn(browser);
  await admin
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Overview', exact: true })
    .click();
  const customers = admin.getByTestId('count-customers');
  await expect(customers).toHaveText(/^\d+$/);
  const before = Number(await customers.textContent());
  await api('POST', '/customers', { name: 'Dashboard Live Ltd' });
  await expect(customers).toHaveText(String(before + 1));
  await expect(admin.getByRole('table', { name: 'Recent activity' })).toContainText(
    'added customer Dashboard Live Ltd',
  );
  // A reseller without a credit limit is never blocked: no "available" figure for it.
  await expect(
    admin
      .getByRole('table', { name: 'Credit exposure' })
      .getByRole('row', { name: /^Acme Voice\b/ }),
  ).toContainText('no limit');
  await saveScreenshot(admin, 'test-results/dashboard.png');

  // A reseller at a glance: its people, its provider cards, customers and sub-resellers.
  await admin
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Resellers', exact: true })
    .click();
  await admin.getByRole('searchbox').fill('Acme');
  await expect(admin.getByRole('table', { name: 'Resellers' })).not.toContainText('Blue Telecom');
  await openRecord(admin, 'Resellers', 'Acme Voice');
  // Each of them is a section (tab) of the reseller's page.
  const section = (name: string) =>
    admin
      .getByRole('navigation', { name: 'Reseller sections' })
      .getByRole('link', { name, exact: true })
      .click();
  await section('Users');
  await expect(admin.getByRole('table', { name: 'Users of Acme Voice' })).toContainText(
    'ops-a@acme-voice.test',
  );
  await section('Cards');
  const held = admin.getByRole('table', { name: 'Cards assigned to Acme Voice' });
  await expect(held).toContainText('Carrier Retail');
  await expect(held).toContainText('E2E Sell');
  // And what it sells: the cards it owns, not those it holds nor its sub-reseller's.
  const owned = admin.getByRole('table', { name: 'Cards owned by Acme Voice' });
  await expect(owned).toContainText('Acme Standard');
  await expect(owned).toContainText('Customer');
  await expect(owned).not.toContainText('Carrier Retail');
  await expect(owned).not.toContainText('Acme East Retail');
  await owned.getByRole('link', { name: 'Acme Standard' }).click();
  await expect(admin.getByRole('heading', { level: 1 })).toHaveText('Acme Standard');
  await admin.goBack();
  await expect(owned).toBeVisible();
  await saveScreenshot(admin, 'test-results/reseller-detail.png');
  await section('Customers');
  await expect(admin.getByRole('table', { name: 'Customers of Acme Voice' })).toContainText(
    'Clinic Borealis',
  );
  await section('Sub-resellers');
  await expect(admin.getByRole('table', { name: 'Sub-resellers of Acme Voice' })).toContainText(
    'Acme East',
  );

  await admin
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Audit log', exact: true })
    .click();
  await admin.getByLabel('Resource').selectOption('cards');
  const log = admin.getByRole('table', { name: 'Audit log' });
  await expect(log).toContainText('set the rates of rate card E2E Sell');
  await expect(log).not.toContainText('Dashboard Live Ltd');
  await saveScreenshot(admin, 'test-results/audit-log.png');
});

test('support views the panel as a reseller user, read-only, then stops; a user is disabled and enabled', async ({
  browser,
}) => {
  const admin = await adminSignedIn(browser);
  const toUsers = () =>
    admin
      .getByRole('navigation', { name: 'Panel' })
      .getByRole('link', { name: 'Users', exact: true })
      .click();
  const row = admin
    .getByRole('table', { name: 'Users' })
    .getByRole('row', { name: /ops-b@bluetel\.test/ });
  const toManage = async () => {
    await openRecord(admin, 'Users', 'ops-b@bluetel.test');
    await admin
      .getByRole('navigation', { name: 'User sections' })
      .getByRole('link', { name: 'Manage', exact: true })
      .click();
  };
  const status = admin.getByTestId('record-status');

  await toUsers();
  await toManage();
  await admin.getByRole('button', { name: 'Disable user' }).click();
  await admin
    .getByRole('alertdialog', { name: 'Disable ops-b@bluetel.test?' })
    .getByRole('button', { name: 'Disable user' })
    .click();
  await expect(status).toHaveText('disabled');
  // The list says so too.
  await toUsers();
  await expect(row).toContainText('disabled');
  await toManage();
  await admin.getByRole('button', { name: 'Enable user' }).click();
  await expect(status).toHaveText('active');
  await toUsers();
  await expect(row).toContainText('active');
  await toManage();
  // The name, corrected from Manage (no takeover: no manage rule): the title follows.
  const naming = admin.getByRole('form', { name: 'Name' });
  await naming.getByLabel('Name').fill('Blue Ops B');
  await naming.getByRole('button', { name: 'Save name' }).click();
  await expect(admin.getByText('User · Blue Ops B')).toBeVisible();

  const viewAs = admin.getByRole('form', { name: 'View as this user' });
  await viewAs.getByRole('button', { name: 'View as ops-b@bluetel.test' }).click();
  await expect(viewAs.getByText('must say why')).toBeVisible();
  await viewAs.getByLabel('Why (recorded in the audit log)').fill('Ticket 4711: cards missing');
  await viewAs.getByRole('button', { name: 'View as ops-b@bluetel.test' }).click();
  const banner = admin.getByTestId('impersonation-banner');
  await expect(banner).toContainText('Viewing as ops-b@bluetel.test (read-only)');
  // The time left is shown and ticks (30 minutes by default).
  await expect(banner.getByTestId('impersonation-time-left')).toHaveText(
    /^(29:[0-5]\d|30:00) left$/,
  );
  await expect(admin.getByTestId('signed-in-user')).toContainText('ops-b@bluetel.test');
  // As the reseller sees it: its own cards only, and nothing to write with.
  await admin
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Cards', exact: true })
    .click();
  const provider = admin.getByRole('region', { name: 'Provider cards' });
  await expect(provider.getByRole('cell', { name: 'Carrier Retail', exact: true })).toBeVisible();
  await expect(admin.getByText('E2E Sell')).toHaveCount(0);
  await expect(admin.getByRole('form', { name: 'Add card' })).toHaveCount(0);
  await saveScreenshot(admin, 'test-results/view-as.png');
  await banner.getByRole('button', { name: 'Stop viewing' }).click();
  await expect(banner).toHaveCount(0);
  await expect(admin.getByTestId('signed-in-user')).toContainText(E2E_ADMIN.email);
  // Back where the view was started: the user's Manage tab, not the page it ended on.
  await expect(admin).toHaveURL(/\/users\/[0-9a-f-]{36}\?tab=manage$/);
  await expect(admin.getByRole('form', { name: 'View as this user' })).toBeVisible();
});
