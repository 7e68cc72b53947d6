import { expect, test } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';

test('editing a reseller saves, and a change saved first by someone else shows as a conflict', async ({
  page,
}) => {
  await page.goto('/login');
  await page.getByLabel('Email').fill(E2E_ADMIN.email);
  await page.getByLabel('Password').fill(E2E_ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('signed-in-user')).toBeVisible();

  await page.getByRole('link', { name: 'Resellers' }).click();
  await page.getByRole('button', { name: 'Edit Blue Telecom' }).click();
  const form = page.getByRole('form', { name: 'Edit Blue Telecom' });
  await form.getByLabel('Name').fill('Blue Telecom Ltd');
  await form.getByRole('button', { name: 'Save changes' }).click();
  const table = page.getByRole('table', { name: 'Resellers' });
  await expect(table.getByRole('cell', { name: 'Blue Telecom Ltd', exact: true })).toBeVisible();

  // Open the form, then let "someone else" save first through the API (same session).
  await page.getByRole('button', { name: 'Edit Blue Telecom Ltd' }).click();
  const stale = page.getByRole('form', { name: 'Edit Blue Telecom Ltd' });
  const list = await (await page.request.get('/api/v1/resellers?q=Blue')).json();
  const current = list.items[0];
  const other = await page.request.patch(`/api/v1/resellers/${current.id}`, {
    data: { version: current.version, name: 'Blue Telecom Group' },
  });
  expect(other.status()).toBe(200);
  await stale.getByLabel('Name').fill('Blue Telecom Mine');
  await stale.getByRole('button', { name: 'Save changes' }).click();
  await expect(stale.getByRole('alert')).toHaveText(
    'Someone else changed this first; here is the current version.',
  );
  // Nothing was overwritten.
  const after = await (await page.request.get(`/api/v1/resellers/${current.id}`)).json();
  expect(after.name).toBe('Blue Telecom Group');
});
