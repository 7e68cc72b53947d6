import { expect, test, type Locator } from '@playwright/test';
import { signIn } from '../fixtures/e2e-sign-in';
import { E2E_ADMIN } from '../../playwright.config';

const RESELLER = {
  company: 'E2E Telecom',
  email: 'ops@e2e-telecom.test',
  password: 'e2e-reseller-pass',
};

/** A server-searched picker (account, group): type the name, take its option by keyboard. */
async function pickAccount(combobox: Locator, name: string) {
  await combobox.fill(name);
  const list = combobox.page().locator(`#${await combobox.getAttribute('aria-controls')}`);
  const starts = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
  await expect(list.getByRole('option', { name: starts })).toHaveCount(1);
  // The search has answered (debounced): the match leads the list.
  await expect(list.getByRole('option').first()).toHaveAccessibleName(starts);
  await combobox.press('ArrowDown');
  await combobox.press('Enter');
  await expect(combobox).toHaveValue(name);
}

test("the seed's workflow: group from template → reseller account → reseller user → the reseller sees only its own", async ({
  page,
}) => {
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);

  // 1. Create a group from the Default Reseller template (the demo has one: a new name).
  await page.getByRole('link', { name: 'Groups', exact: true }).click();
  await page.getByRole('button', { name: 'Create Default Reseller' }).click();
  // It asks for the name, offering the first free one (the demo has "Default Reseller").
  const fromTemplate = page.getByRole('form', {
    name: 'New group from the Default Reseller template',
  });
  await expect(fromTemplate.getByLabel('Name of the new group')).toHaveValue(
    'Default Reseller (2)',
  );
  await fromTemplate.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(fromTemplate).toHaveCount(0);
  const groups = page.getByRole('table', { name: 'Groups' });
  await expect(
    groups.getByRole('cell', { name: 'Default Reseller (2)', exact: true }),
  ).toBeVisible();

  // 2. Add the reseller account: company name and email; bad input names the field.
  await page.getByRole('link', { name: 'Resellers', exact: true }).click();
  const addReseller = page.getByRole('form', { name: 'Add reseller account' });
  await addReseller.getByLabel('Company name').fill(RESELLER.company);
  await addReseller.getByLabel('Email').fill('not-an-email');
  await addReseller.getByRole('button', { name: 'Save' }).click();
  await expect(addReseller.getByText('must be an email address')).toBeVisible();
  await addReseller.getByLabel('Company name').fill(RESELLER.company);
  await addReseller.getByLabel('Email').fill('billing@e2e-telecom.test');
  await addReseller.getByRole('button', { name: 'Save' }).click();
  await expect(
    page
      .getByRole('table', { name: 'Resellers' })
      .getByRole('cell', { name: RESELLER.company, exact: true }),
  ).toBeVisible();

  // 3. Create the reseller user with that group (the group is required).
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  const addUser = page.getByRole('form', { name: 'Add user' });
  await addUser.getByLabel('Email').fill(RESELLER.email);
  await addUser.getByLabel('Password').fill(RESELLER.password);
  await pickAccount(addUser.getByRole('combobox', { name: 'Account' }), RESELLER.company);
  await addUser.getByRole('button', { name: 'Create user' }).click();
  await expect(addUser.getByRole('combobox', { name: 'Group' })).toHaveAccessibleDescription(
    'is required: every user has exactly one group',
  );
  await addUser.getByLabel('Email').fill(RESELLER.email);
  await addUser.getByLabel('Password').fill(RESELLER.password);
  await pickAccount(addUser.getByRole('combobox', { name: 'Account' }), RESELLER.company);
  await pickAccount(addUser.getByRole('combobox', { name: 'Group' }), 'Default Reseller (2)');
  await addUser.getByRole('button', { name: 'Create user' }).click();
  await expect(
    page
      .getByRole('table', { name: 'Users' })
      .getByRole('cell', { name: RESELLER.email, exact: true }),
  ).toBeVisible();

  // 3b. Check what the reseller will see without signing in as it: the explainer shows
  // its effective permissions; editing the group in the matrix changes them live.
  await page.getByRole('link', { name: `What ${RESELLER.email} can see` }).click();
  const access = page.getByTestId('user-access');
  await expect(access).toContainText(`${RESELLER.email} in ${RESELLER.company} (reseller)`);
  await expect(access.getByLabel('customers:read: yes')).toBeVisible();
  await expect(access.getByLabel('audit:read: yes')).toBeVisible();
  await expect(access.getByLabel('impersonation:start: no')).toBeVisible();
  await expect(access.getByRole('region', { name: 'Customers (0)' })).toContainText('None.');
  await page.getByRole('button', { name: 'Edit Default Reseller (2)' }).click();
  const editGroup = page.getByRole('form', { name: 'Edit group Default Reseller (2)' });
  await editGroup.getByLabel('audit:read').uncheck();
  await editGroup.getByRole('button', { name: 'Save group' }).click();
  await expect(editGroup).toHaveCount(0);
  await expect(access.getByLabel('audit:read: no')).toBeVisible();
  await expect(access.getByLabel('customers:read: yes')).toBeVisible();

  // 3c. The group's members, from its row: the new user, and nobody outside the group.
  await groups.getByRole('link', { name: 'Members of Default Reseller (2)' }).click();
  await expect(page).toHaveURL(/\/users\?group=[0-9a-f-]{36}$/);
  await expect(page.getByText('Members of Default Reseller (2)')).toBeVisible();
  const members = page.getByRole('table', { name: 'Users' });
  await expect(members.getByRole('row')).toHaveCount(2);
  await expect(members.getByRole('cell', { name: RESELLER.email, exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Show every group' }).click();
  await expect(members.getByRole('cell', { name: E2E_ADMIN.email, exact: true })).toBeVisible();
  await expect(page).toHaveURL(/\/users$/);
  // Back to the members, then the Users link: every user again, not the group kept.
  await page.goBack();
  await page.getByRole('link', { name: 'Members of Default Reseller (2)' }).click();
  await expect(members.getByRole('row')).toHaveCount(2);
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  await expect(members.getByRole('cell', { name: E2E_ADMIN.email, exact: true })).toBeVisible();
  await expect(page.getByText('Members of Default Reseller (2)')).toHaveCount(0);

  // 3d. The reseller's first sign-in, elsewhere, shows on the admin's list at once, and
  // its page links to where it came from, in the audit.
  const lastSignIn = members
    .getByRole('row')
    .filter({ hasText: RESELLER.email })
    .locator('td')
    .nth(6);
  await expect(lastSignIn).toHaveText('never');
  const elsewhere = await page.context().browser()!.newContext();
  await signIn(await elsewhere.newPage(), RESELLER.email, RESELLER.password);
  await elsewhere.close();
  await expect(lastSignIn.locator('time')).toHaveText('now');
  await members.getByRole('link', { name: RESELLER.email, exact: true }).click();
  await page.getByRole('link', { name: 'Sign-in history' }).click();
  await expect(page).toHaveURL(/\/audit\?resource=sessions&actor=[0-9a-f-]{36}$/);
  await expect(page.getByRole('combobox', { name: 'Person' })).toHaveValue(RESELLER.email);
  const trail = page.getByRole('table', { name: 'Audit log' });
  await expect(trail.getByRole('row')).toHaveCount(2);
  await expect(trail).toContainText(/signed in on localhost from \S+/);
  // The nav's link opens the whole trail, not the filters the address gave — nor those
  // set on the page since.
  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByRole('combobox', { name: 'Person' })).toHaveValue('');
  await page.getByLabel('Resource').selectOption('sessions');
  await expect(page).toHaveURL(/\/audit\?resource=sessions$/);
  await page.getByRole('link', { name: 'Audit log', exact: true }).click();
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByLabel('Resource')).toHaveValue('');
  await page.getByRole('link', { name: 'Users', exact: true }).click();

  // 4. Sign out; the reseller signs in and sees only its own account, users and customers.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, RESELLER.email, RESELLER.password);
  await expect(page.getByTestId('signed-in-account')).toContainText(RESELLER.company);
  await expect(page.getByTestId('connection-indicator')).toHaveText('Live');

  await page.getByRole('link', { name: 'Customers', exact: true }).click();
  await expect(page.getByText('Nothing here yet.')).toBeVisible();
  await page.getByRole('link', { name: 'Resellers', exact: true }).click();
  await expect(page.getByText('Nothing here yet.')).toBeVisible();
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  const users = page.getByRole('table', { name: 'Users' });
  await expect(users.getByRole('cell', { name: RESELLER.email, exact: true })).toBeVisible();
  await expect(users.getByRole('row')).toHaveCount(2); // the header and its own user
  // Nothing of the demo's other resellers or of the carrier reaches the page.
  await expect(page.locator('body')).not.toContainText(E2E_ADMIN.email);
  await expect(page.locator('body')).not.toContainText('Acme Voice');
  // The group edit holds: no audit log for it any more.
  await expect(page.getByRole('link', { name: 'Audit log', exact: true })).toHaveCount(0);
  // Nor may it hand on the Default Reseller template, which lists audit:read: the button
  // says so rather than failing on submit; the Default Customer one is within its grants.
  await page.getByRole('link', { name: 'Groups', exact: true }).click();
  // Enabled once the page is hydrated and its groups are read (disabled until then).
  await expect(page.getByRole('button', { name: 'Create Default Customer' })).toBeEnabled();
  const template = page.getByRole('button', { name: 'Create Default Reseller' });
  await expect(template).toBeDisabled();
  await expect(template).toHaveAccessibleDescription(/Your group lacks audit:read/);
  // A new group's matrix: what it lacks is dimmed (a disabled box alone looks enabled in
  // the dark theme), said so in words, and each such box says why.
  const matrix = page
    .getByRole('form', { name: 'New group' })
    .getByRole('group', { name: 'Grants' });
  await expect(matrix).toContainText('Dimmed: grants your own group does not hold');
  const lacked = matrix.getByRole('checkbox', { name: 'audit:read' });
  await expect(lacked).toBeDisabled();
  await expect(lacked).toHaveAttribute('title', /not in your own group/);
  await expect(lacked).toHaveCSS('opacity', '0.3');
  await expect(matrix.getByRole('checkbox', { name: 'customers:read' })).toHaveCSS('opacity', '1');
});
