import { expect, test } from '@playwright/test';
import { adminApi, submitSignIn } from '../fixtures/e2e-sign-in';
import * as OTPAuth from 'otpauth';

const USER = { email: 'e2e-mfa@demo-carrier.test', password: 'e2e-mfa-user-password' };
const STEP_MS = 30_000;

/**
 * What an authenticator app shows `offset` steps from now, from the secret the page
 * showed. Near the end of a step it waits for the next, so the server checks the code
 * in the step it was made for (each code is accepted once, for a later step than the last).
 */
async function codeFor(secret: string, offset: number): Promise<string> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < 4000) await new Promise((resolve) => setTimeout(resolve, left + 100));
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + offset * STEP_MS,
  });
}

test('MFA enrolment and sign-in with a code computed in the test', async ({ page, request }) => {
  // A dedicated user in the admin's own group, so the other specs' admin is untouched.
  const { headers, me } = await adminApi(request, 'e2e mfa');
  const created = await request.post('/api/v1/users', {
    headers,
    data: { ...USER, accountId: me.account.id, groupId: me.group.id },
  });
  expect(created.status()).toBe(201);

  await submitSignIn(page, USER.email, USER.password);
  await expect(page).toHaveURL(/\/$/);
  await page.getByRole('link', { name: 'Account security' }).click();
  await expect(page).toHaveURL(/\/account\/security$/);
  await expect(page.getByTestId('mfa-state')).toContainText('off');

  // Enrolment starts with the current password; a wrong one is named on its field.
  const setUp = page.getByRole('form', { name: 'Set up MFA' });
  await setUp.getByLabel('Your current password').fill('not-the-password');
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await expect(setUp).toContainText('is not your current password');
  await setUp.getByLabel('Your current password').fill(USER.password);
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  await expect(page.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  const secret = (await page.getByTestId('mfa-secret').textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await page.getByLabel('Code from the app').fill(await codeFor(secret, -1));
  await page.getByRole('button', { name: 'Turn on MFA' }).click();
  await expect(page.getByTestId('recovery-codes').getByRole('listitem')).toHaveCount(10);
  await expect(page.getByRole('status', { name: 'Recovery codes' })).toContainText(
    'your other sessions have ended',
  );
  await expect(page.getByTestId('mfa-state')).toContainText('on');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  // The password alone is not enough now: the form asks for the code.
  await submitSignIn(page, USER.email, USER.password);
  const form = page.getByRole('form', { name: 'Sign in' });
  await expect(form.getByRole('alert')).toContainText('code from your authenticator app');
  await expect(page).toHaveURL(/\/login$/);
  await form.getByLabel('Authentication code').fill('000000');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(form.getByRole('alert')).toContainText('wrong or was used already');

  await form.getByLabel('Authentication code').fill(await codeFor(secret, 0));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('signed-in-user')).toContainText(USER.email);

  // Clean up through the screen: off with the password.
  await page.goto('/account/security');
  await page
    .getByRole('form', { name: 'Turn off MFA' })
    .getByLabel('or password')
    .fill(USER.password);
  await page.getByRole('button', { name: 'Turn off MFA' }).click();
  await expect(page.getByTestId('mfa-state')).toContainText('off');
});

test('one’s API tokens are listed on Account security, and a revoked one stops working', async ({
  page,
  request,
}) => {
  const { headers, me } = await adminApi(request, 'e2e tokens setup');
  const person = { email: 'e2e-tokens@demo-carrier.test', password: 'e2e-tokens-password' };
  const created = await request.post('/api/v1/users', {
    headers,
    data: { ...person, accountId: me.account.id, groupId: me.group.id },
  });
  expect(created.status()).toBe(201);
  const issue = async (name: string) => {
    const issued = await request.post('/api/v1/auth/token', { data: { ...person, name } });
    expect(issued.status()).toBe(201);
    return ((await issued.json()) as { token: string }).token;
  };
  const kept = await issue('billing script');
  const leaked = await issue('switch in rack 4');

  await submitSignIn(page, person.email, person.password);
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/account/security');
  const table = page.getByRole('table', { name: 'Your API tokens' });
  await expect(table.getByRole('row')).toHaveCount(3);
  await expect(table).toContainText('billing script');
  await expect(table).toContainText('switch in rack 4');

  // Revoke asks first; cancelled, nothing happens.
  await table.getByRole('button', { name: 'Revoke switch in rack 4' }).click();
  const ask = page.getByRole('alertdialog', { name: 'Revoke switch in rack 4?' });
  await expect(ask).toContainText('refused from its next request');
  await ask.getByRole('button', { name: 'Cancel' }).click();
  const me1 = (token: string) =>
    request.get('/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
  expect((await me1(leaked)).status()).toBe(200);

  await table.getByRole('button', { name: 'Revoke switch in rack 4' }).click();
  await page
    .getByRole('alertdialog', { name: 'Revoke switch in rack 4?' })
    .getByRole('button', { name: 'Revoke token' })
    .click();
  await expect(
    page.getByRole('status').filter({ hasText: 'switch in rack 4 revoked.' }),
  ).toBeVisible();
  await expect(table.getByRole('row')).toHaveCount(2);
  await expect(table).not.toContainText('switch in rack 4');
  expect((await me1(leaked)).status()).toBe(401);
  expect((await me1(kept)).status()).toBe(200);

  // Its replacement issued here: against the password, shown once, listed, and working.
  const issuing = page.getByRole('form', { name: 'Issue a token' });
  await issuing.getByLabel('Name (what uses it)').fill('switch in rack 5');
  await issuing.getByLabel('Your password').fill('not-the-password');
  await issuing.getByRole('button', { name: 'Issue token' }).click();
  await expect(issuing).toContainText('Wrong email or password.');
  await expect(page.getByTestId('issued-token')).toHaveCount(0);
  await issuing.getByLabel('Your password').fill(person.password);
  await issuing.getByRole('button', { name: 'Issue token' }).click();
  const shown = page.getByTestId('issued-token');
  await expect(shown).toHaveText(/\S{20,}/);
  await expect(table).toContainText('switch in rack 5');
  expect((await me1((await shown.textContent())!)).status()).toBe(200);
});
