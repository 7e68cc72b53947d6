import { expect, test } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { holdScripts } from '../fixtures/e2e-hold-scripts';

test('the seeded admin signs in, sees the shell live, and signs out', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);

  await page.getByLabel('Email').fill(E2E_ADMIN.email);
  await page.getByLabel('Password').fill(E2E_ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('signed-in-user')).toContainText(E2E_ADMIN.email);
  await expect(page.getByTestId('signed-in-account')).toContainText('Demo Carrier');
  await expect(page.getByTestId('signed-in-account')).toContainText('Carrier administrators');
  // The socket authenticated with the same cookie and received hello.
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  // The raw grant list lives on one's own user page, linked from the overview.
  await page.getByRole('link', { name: 'Your permissions' }).click();
  await expect(page).toHaveURL(/\/users\/[0-9a-f-]+\?tab=access$/);
  await expect(page.getByTestId('grants')).toContainText('impersonation:start');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();

  // Signed out means signed out: the shell sends us back to the login page.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
});

test('sign-in goes back to the page that sent there, and never off the panel', async ({ page }) => {
  const signInHere = async () => {
    await page.getByLabel('Email').fill(E2E_ADMIN.email);
    await page.getByLabel('Password').fill(E2E_ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  // Another origin named as the way back is ignored: the Overview.
  await page.goto('/login?next=//evil.example/phish');
  await signInHere();
  await expect(page).toHaveURL(/^http:\/\/[^/]+\/$/);
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);

  // A link followed while signed out (an e-mail's): back to it once signed in.
  await page.goto('/customers?sort=name');
  await expect(page).toHaveURL(/\/login\?next=%2Fcustomers%3Fsort%3Dname$/);
  await signInHere();
  await expect(page).toHaveURL(/\/customers\?sort=name$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Customers' })).toBeVisible();
});

test('a wrong password shows an error and no session', async ({ page, context }) => {
  await page.goto('/login');
  await page.getByLabel('Email').fill(E2E_ADMIN.email);
  await page.getByLabel('Password').fill('definitely-not-it');
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page.getByRole('form', { name: 'Sign in' }).getByRole('alert')).toHaveText(
    'Wrong email or password.',
  );
  await expect(page).toHaveURL(/\/login$/);
  const cookies = await context.cookies();
  expect(cookies.some((cookie) => cookie.name.endsWith('next-auth.session-token'))).toBe(false);
});

test('before its script runs, the sign-in form cannot submit: no password in a URL', async ({
  page,
}) => {
  const release = await holdScripts(page);
  await page.goto('/login', { waitUntil: 'domcontentloaded' });
  const button = page.getByRole('button', { name: 'Sign in' });
  await expect(button).toBeDisabled();
  await page.getByLabel('Email').fill(E2E_ADMIN.email);
  await page.getByLabel('Password').fill(E2E_ADMIN.password);
  // The browser's own submit (Enter, with no script) would be a GET carrying the fields.
  await page.getByLabel('Password').press('Enter');
  expect(new URL(page.url()).search).toBe('');

  release();
  await expect(button).toBeEnabled();
  // What was typed before hydration is still there and signs in.
  await button.click();
  await expect(page.getByTestId('signed-in-user')).toContainText(E2E_ADMIN.email);
  expect(new URL(page.url()).search).toBe('');
});
