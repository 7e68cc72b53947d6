import { test as setup } from '@playwright/test';
import { E2E_ADMIN } from '../../playwright.config';
import { adminState, signIn } from '../fixtures/e2e-sign-in';

/**
 * Signs the e2e admin in through the form once per lane and keeps the session cookie for the
 * specs that only need the admin signed in (adminPage). The session lives on the
 * server, so no spec may sign this one out: those that sign out sign in themselves.
 */
setup('the e2e admin signs in once for the lane', async ({ page }) => {
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await page.context().storageState({ path: adminState() });
});
