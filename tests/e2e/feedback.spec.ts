import {
  expect,
  test,
  type APIRequestContext,
  type Page,
  type WebSocketRoute,
} from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminPage } from '../fixtures/e2e-sign-in';
import { closeContexts } from '../fixtures/e2e-close';

/**
 * Operator-grade feedback (issue 15, item 4): destructive actions ask first and nothing
 * changes until confirmed, saves show a toast linking to the record, a failing list
 * shows its error with a Retry within 2 s, the panel says when it is offline and pauses
 * writes, and a missing page keeps the panel around it.
 */

test.afterEach(async ({ browser }) => {
  await closeContexts(browser.contexts());
});

/** The carrier admin's API by bearer token: arranging, and reading the database's truth. */
async function adminApi(request: APIRequestContext) {
  const token = (
    await (
      await request.post('/api/v1/auth/token', { data: { ...E2E_ADMIN, name: 'e2e feedback' } })
    ).json()
  ).token as string;
  return async (method: string, path: string, data?: unknown) => {
    const response = await request.fetch(`/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
      data,
    });
    return {
      status: response.status(),
      body: response.status() === 204 ? null : await response.json().catch(() => null),
    };
  };
}

const confirmDialog = (page: Page, title: string) => page.getByRole('alertdialog', { name: title });

async function live(page: Page) {
  await expect(page.getByTestId('connection-indicator')).toHaveAttribute('data-state', 'live');
}

test('each destructive action asks first: cancel changes nothing, confirm does', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  const stamp = Date.now().toString(36);
  const resellerName = `Feedback Co ${stamp}`;
  const reseller = (
    await api('POST', '/resellers', {
      name: resellerName,
      email: `ops-${stamp}@feedback.test`,
    })
  ).body;
  const group = (
    await api('POST', '/groups', {
      template: 'default-reseller',
      name: `Feedback group ${stamp}`,
    })
  ).body;
  const email = `user-${stamp}@feedback.test`;
  const user = (
    await api('POST', '/users', {
      email,
      password: 'feedback-password-1',
      accountId: reseller.id,
      groupId: group.id,
    })
  ).body;
  const spareGroup = (
    await api('POST', '/groups', {
      name: `Spare ${stamp}`,
      grants: ['cards:read'],
    })
  ).body;
  const cardName = `Feedback card ${stamp}`;
  const card = (await api('POST', '/cards', { name: cardName, currency: 'EUR', kind: 'customer' }))
    .body;
  expect(
    (await api('POST', '/assignments', { cardId: card.id, accountId: reseller.id })).status,
  ).toBe(201);

  const page = await adminPage(browser);
  await live(page);

  // Disable user.
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Users', exact: true })
    .click();
  await page.getByRole('link', { name: email, exact: true }).click();
  await page.getByRole('link', { name: 'Manage', exact: true }).click();
  await page.getByRole('button', { name: 'Disable user' }).click();
  const disable = confirmDialog(page, `Disable ${email}?`);
  await expect(disable).toContainText('cannot sign in until enabled');
  await expect(disable.getByRole('button', { name: 'Disable user' })).toHaveAttribute(
    'data-danger',
    'true',
  );
  // Escape cancels, like the Cancel button.
  await page.keyboard.press('Escape');
  await expect(disable).toBeHidden();
  await expect(page.getByRole('button', { name: 'Disable user' })).toBeFocused();
  expect((await api('GET', `/users/${user.id}`)).body.status).toBe('active');
  await page.getByRole('button', { name: 'Disable user' }).click();
  await disable.getByRole('button', { name: 'Cancel' }).click();
  await expect(disable).toBeHidden();
  expect((await api('GET', `/users/${user.id}`)).body.status).toBe('active');
  await page.getByRole('button', { name: 'Disable user' }).click();
  await disable.getByRole('button', { name: 'Disable user' }).click();
  await expect
    .poll(async () => (await api('GET', `/users/${user.id}`)).body.status)
    .toBe('disabled');
  const userToast = page.getByTestId('toast').filter({ hasText: email });
  await expect(userToast.getByRole('link', { name: 'Open' })).toHaveAttribute(
    'href',
    `/users/${user.id}`,
  );

  // Suspend an account (a status change in its edit form); the save's toast links to it.
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Resellers', exact: true })
    .click();
  await page.getByRole('link', { name: resellerName, exact: true }).click();
  const edit = page.getByRole('form', { name: `Edit ${resellerName}` });
  await edit.getByLabel('Status').selectOption('suspended');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  const suspend = confirmDialog(page, `Suspend ${resellerName}?`);
  await expect(suspend).toContainText('lose access');
  await suspend.getByRole('button', { name: 'Cancel' }).click();
  await expect(suspend).toBeHidden();
  expect((await api('GET', `/resellers/${reseller.id}`)).body.status).toBe('active');
  // The form kept what was chosen: saving again asks again.
  await expect(edit.getByLabel('Status')).toHaveValue('suspended');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await suspend.getByRole('button', { name: 'Suspend' }).click();
  await expect
    .poll(async () => (await api('GET', `/resellers/${reseller.id}`)).body.status)
    .toBe('suspended');
  const saved = page.getByTestId('toast').filter({ hasText: `${resellerName} saved.` });
  await expect(saved).toBeVisible();
  await expect(saved.getByRole('link', { name: 'Open' })).toHaveAttribute(
    'href',
    `/resellers/${reseller.id}`,
  );
  await expect(page.getByRole('status', { name: 'Notifications' })).toHaveAttribute(
    'aria-live',
    'polite',
  );
  await saved.getByRole('button', { name: 'Dismiss notification' }).click();
  await expect(saved).toHaveCount(0);

  // Remove an assignment.
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Cards', exact: true })
    .click();
  await page.getByRole('link', { name: cardName, exact: true }).click();
  const held = page.getByRole('table', { name: 'Assignments' });
  await expect(held).toContainText(resellerName);
  await held.getByRole('button', { name: 'Remove' }).click();
  const remove = confirmDialog(page, `Remove this card from ${resellerName}?`);
  await remove.getByRole('button', { name: 'Cancel' }).click();
  expect((await api('GET', `/assignments?cardId=${card.id}`)).body.items).toHaveLength(1);
  await held.getByRole('button', { name: 'Remove' }).click();
  await remove.getByRole('button', { name: 'Remove' }).click();
  await expect
    .poll(async () => (await api('GET', `/assignments?cardId=${card.id}`)).body.items.length)
    .toBe(0);

  // Delete a group.
  await page
    .getByRole('navigation', { name: 'Panel' })
    .getByRole('link', { name: 'Groups', exact: true })
    .click();
  await page.getByRole('button', { name: `Edit ${spareGroup.name}` }).click();
  await page.getByRole('button', { name: 'Delete group' }).click();
  const deleteGroup = confirmDialog(page, `Delete group ${spareGroup.name}?`);
  await deleteGroup.getByRole('button', { name: 'Cancel' }).click();
  expect((await api('GET', `/groups/${spareGroup.id}`)).status).toBe(200);
  await page.getByRole('button', { name: 'Delete group' }).click();
  await deleteGroup.getByRole('button', { name: 'Delete group' }).click();
  await expect.poll(async () => (await api('GET', `/groups/${spareGroup.id}`)).status).toBe(404);
});

test('a failing list shows its error with a Retry within 2 s; Retry loads it', async ({
  browser,
}) => {
  const page = await adminPage(browser);
  await live(page);
  let failing = true;
  let firstFailure = 0;
  await page.route(/\/api\/v1\/customers(\?|$)/, async (route) => {
    if (!failing) return route.continue();
    firstFailure ||= Date.now();
    return route.abort('connectionreset');
  });
  await page.getByRole('link', { name: 'Customers', exact: true }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Could not load' });
  await expect(alert).toBeVisible({ timeout: 5_000 });
  expect(Date.now() - firstFailure).toBeLessThan(2_000);
  failing = false;
  await alert.getByRole('button', { name: 'Retry' }).click();
  await expect(
    page
      .getByRole('table', { name: 'Customers' })
      .getByRole('cell', { name: 'Hotel Alpine', exact: true }),
  ).toBeVisible();
  await expect(alert).toHaveCount(0);
});

test('the socket cut: an offline banner, writes paused; back online the banner leaves and data catches up', async ({
  browser,
  request,
}) => {
  const api = await adminApi(request);
  const page = await adminPage(browser, '/customers');
  let cut = false;
  let upgraded = false;
  const sockets: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/socket\.io\//, (socket) => {
    if (cut) return void socket.close();
    const server = socket.connectToServer();
    // Engine.IO's upgrade packet ("5"): from here the client talks over this WebSocket
    // alone, so closing it drops the connection (before, it would fall back to polling).
    socket.onMessage((message) => {
      if (message === '5') upgraded = true;
      server.send(message);
    });
    server.onMessage((message) => socket.send(message));
    sockets.push(socket);
  });
  await page.route(/\/socket\.io\/.*transport=polling/, (route) =>
    cut ? route.abort('internetdisconnected') : route.continue(),
  );
  await page.reload();
  await live(page);
  const add = page.getByRole('form', { name: 'Add customer' });
  const save = add.getByRole('button', { name: 'Save' });
  await expect(save).toBeEnabled();
  await expect(page.getByTestId('offline-banner')).toHaveCount(0);

  // Socket.IO starts on HTTP long-polling and then upgrades: cut once it is on the WebSocket.
  await expect.poll(() => upgraded).toBe(true);
  cut = true;
  await Promise.all(sockets.map((socket) => socket.close()));
  const banner = page.getByTestId('offline-banner');
  await expect(banner).toContainText('The panel is offline');
  await expect(banner).toContainText('Changes are paused');
  await expect(save).toBeDisabled();
  // Someone else's change while this tab is away reaches it when it is back.
  const name = `Offline catch-up ${Date.now().toString(36)}`;
  expect((await api('POST', '/customers', { name })).status).toBe(201);

  cut = false;
  await live(page);
  await expect(banner).toHaveCount(0);
  await expect(save).toBeEnabled();
  await expect(
    page.getByRole('table', { name: 'Customers' }).getByRole('cell', { name, exact: true }),
  ).toBeVisible();
});

test('a missing page shows the panel’s 404 with its header and navigation', async ({ browser }) => {
  const page = await adminPage(browser);
  const response = await page.goto('/no-such-page/at-all');
  expect(response!.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1, name: 'Page not found' })).toBeVisible();
  await expect(page.getByTestId('signed-in-user')).toContainText(E2E_ADMIN.email);
  const nav = page.getByRole('navigation', { name: 'Panel' });
  await expect(nav.getByRole('link', { name: 'Resellers', exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Back to the overview' }).click();
  await expect(page).toHaveURL(/\/$/);
});
