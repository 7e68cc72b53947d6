import { expect, test } from '@playwright/test';
import { adminApi, submitSignIn } from '../fixtures/e2e-sign-in';

/**
 * The forced password change (issue 13 item 8): after an admin reset the person signs
 * in, is held at one screen with only the change form, and reaches the panel after it.
 */
test('a reset user is held at the change screen until it chooses a password', async ({
  page,
  request,
}) => {
  const { headers, me } = await adminApi(request, 'e2e forced change');
  const group = await request.post('/api/v1/groups', {
    headers,
    data: { name: `Forced change ${Date.now()}`, grants: ['customers:read'] },
  });
  expect(group.status()).toBe(201);
  const email = `forced-${Date.now()}@demo-carrier.test`;
  const created = await request.post('/api/v1/users', {
    headers,
    data: {
      email,
      password: 'first-password-123',
      accountId: me.account.id,
      groupId: (await group.json()).id,
    },
  });
  expect(created.status()).toBe(201);
  const user = await created.json();
  const reset = await request.patch(`/api/v1/users/${user.id}`, {
    headers,
    data: { version: user.version, password: 'temporary-password-1' },
  });
  expect(reset.status()).toBe(200);

  await submitSignIn(page, email, 'temporary-password-1');

  // Held: every panel page sends the person to the change screen.
  await expect(page).toHaveURL(/\/password$/);
  await expect(page.getByText('choose a new one to continue')).toBeVisible();
  await page.goto('/customers');
  await expect(page).toHaveURL(/\/password$/);

  const form = page.getByRole('form', { name: 'Change password' });
  await form.getByLabel('Temporary password').fill('temporary-password-1');
  await form.getByLabel('New password (at least 12 characters)').fill('short');
  await form.getByLabel('New password again').fill('short');
  await form.getByRole('button', { name: 'Change password' }).click();
  await expect(form.getByText('must be at least 12 characters')).toBeVisible();

  await form.getByLabel('New password (at least 12 characters)').fill('my-chosen-password-1');
  await form.getByLabel('New password again').fill('my-chosen-password-1');
  await form.getByRole('button', { name: 'Change password' }).click();

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('signed-in-user')).toContainText(email);
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  await page.goto('/customers');
  await expect(page).toHaveURL(/\/customers$/);
});
