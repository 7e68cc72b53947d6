'use client';

import Link from 'next/link';
import { useState } from 'react';
import { useWatch } from 'react-hook-form';
import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import { createdToast } from '@/components/ui/toast';
import { queryKeys } from '@/lib/client/query-keys';
import { optional, useSchemaForm } from '@/lib/client/use-schema-form';
import type { TResellerDto } from '@/lib/shared/schemas/accounts';
import type { TGroupDto, TUseOnlyGroupDto } from '@/lib/shared/schemas/groups';
import { ZUserCreate, type TUserDto } from '@/lib/shared/schemas/users';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { Button, ListState, SelectField, TextField } from '@/components/ui/field';
import { UserManage } from './user-manage';
import { DataTable, FormMessage, PanelSection } from '@/components/ui/panel-section';

/**
 * Users in scope and the create form. The group is mandatory: the picker offers the
 * groups of the chosen account and of the accounts above it (the server checks again).
 */
export function UsersPanel({
  own,
  can,
}: {
  own: { id: string; name: string };
  /** `explain`: each user links to the explainer of what it can see (groups page). */
  can: TUiAbilities['users'];
}) {
  const [managing, setManaging] = useState<string | null>(null);
  const users = usePagedList<TUserDto>(queryKeys.list('users'));
  const resellers = usePagedList<TResellerDto>(queryKeys.list('resellers'));
  const groups = usePagedList<TGroupDto | TUseOnlyGroupDto>(queryKeys.list('groups'));
  const create = useApiMutation<unknown, unknown>('POST', '/users', [queryKeys.list('users')], {
    success: createdToast('users'),
  });
  const form = useSchemaForm({
    schema: ZUserCreate,
    defaultValues: { email: '', name: '', password: '', accountId: own.id, groupId: '' },
    toBody: (values) => ({ ...values, name: optional(values.name) }),
    submit: create.mutateAsync,
  });
  // The group picker follows the chosen account.
  const accountId = useWatch({ control: form.form.control, name: 'accountId' });
  const accounts = [own, ...(resellers.data ?? [])];
  const accountName = new Map(accounts.map((account) => [account.id, account.name]));
  const groupName = new Map((groups.data ?? []).map((group) => [group.id, group.name]));
  // Usable by the chosen account: an ancestor's (use-only, or owned by our own account)
  // or the account's own groups.
  const usable = (groups.data ?? []).filter(
    (group) => group.useOnly || group.accountId === own.id || group.accountId === accountId,
  );
  const items = users.data ?? [];
  const managedUser = items.find((user) => user.id === managing);

  return (
    <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
      <PanelSection title="Users">
        <ListState isLoading={users.isLoading} error={users.error} empty={items.length === 0}>
          <DataTable
            label="Users"
            headers={['Email', 'Name', 'Account', 'Group', 'Status', 'MFA', '']}
            rows={items.map((user) => [
              user.email,
              user.name,
              accountName.get(user.accountId) ?? '—',
              groupName.get(user.groupId) ?? '—',
              user.status,
              user.mfaEnabled ? 'on' : 'off',
              <span key="actions" className="flex flex-wrap gap-3">
                {can.update || (can.impersonate && user.accountId !== own.id) ? (
                  <button
                    type="button"
                    className="text-brand-700 underline"
                    aria-label={`Manage ${user.email}`}
                    onClick={() => setManaging(user.id)}
                  >
                    Manage
                  </button>
                ) : null}
                {can.explain ? (
                  <Link
                    className="text-brand-700 underline"
                    aria-label={`Access: what ${user.email} can see`}
                    href={`/groups?user=${user.id}`}
                  >
                    Access
                  </Link>
                ) : null}
              </span>,
            ])}
          />
        </ListState>
      </PanelSection>
      {managedUser ? (
        <UserManage
          key={managedUser.id}
          user={managedUser}
          can={{
            update: can.update,
            // Only a user of an account strictly below (the server checks it too).
            impersonate: can.impersonate && managedUser.accountId !== own.id,
          }}
          onClose={() => setManaging(null)}
        />
      ) : can.create ? (
        <PanelSection title="Add user">
          <form onSubmit={form.onSubmit} className="space-y-3" noValidate aria-label="Add user">
            <TextField
              label="Email"
              {...form.register('email')}
              type="email"
              error={form.fields.email}
              required
            />
            <TextField label="Name" {...form.register('name')} error={form.fields.name} />
            <TextField
              label="Password"
              {...form.register('password')}
              type="password"
              autoComplete="new-password"
              error={form.fields.password}
              required
            />
            <SelectField
              label="Account"
              {...form.register('accountId')}
              error={form.fields.accountId}
            >
              {accounts.map((account) => (
                <option key={account.id} value={account.id}>
                  {account.name}
                </option>
              ))}
            </SelectField>
            <SelectField
              label="Group"
              {...form.register('groupId')}
              error={form.fields.groupId}
              required
            >
              <option value="" disabled>
                Choose a group (required)
              </option>
              {usable.map((group) => (
                <option key={group.id} value={group.id}>
                  {group.name}
                </option>
              ))}
            </SelectField>
            <FormMessage message={form.message} />
            <Button type="submit" disabled={form.pending}>
              Create user
            </Button>
          </form>
        </PanelSection>
      ) : null}
    </div>
  );
}
