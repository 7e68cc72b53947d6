'use client';

import Link from 'next/link';
import { useState } from 'react';
import { useWatch } from 'react-hook-form';
import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import { createdToast } from '@/components/ui/toast';
import { useDebounced } from '@/lib/client/use-debounced';
import { queryKeys } from '@/lib/client/query-keys';
import { optional, useSchemaForm } from '@/lib/client/use-schema-form';
import type { TGroupDto, TUseOnlyGroupDto } from '@/lib/shared/schemas/groups';
import { ZUserCreate, type TUserDto } from '@/lib/shared/schemas/users';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { Button, ListState, LoadMore, SelectField, TextField } from '@/components/ui/field';
import { DataTable, FormMessage, ListCount, PanelSection } from '@/components/ui/panel-section';
import { RecordPicker } from '@/components/pickers/record-picker';

/**
 * Users in scope (searched, sorted and counted on the server; each email opens the
 * user's page) and the create form. The account is picked by a server search, so any
 * account in scope can be given a user; the group is mandatory: the picker offers the
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
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<string | undefined>(undefined);
  const q = useDebounced(search.trim(), 250);
  const users = usePagedList<TUserDto>(queryKeys.list('users', { q, sort }));
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
  const groupName = new Map((groups.data ?? []).map((group) => [group.id, group.name]));
  // Usable by the chosen account: an ancestor's (use-only, or owned by our own account)
  // or the account's own groups.
  const usable = (groups.data ?? []).filter(
    (group) => group.useOnly || group.accountId === own.id || group.accountId === accountId,
  );
  const items = users.data ?? [];

  return (
    <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
      <PanelSection title="Users">
        <div className="mb-3">
          <label htmlFor="search-users" className="sr-only">
            Search users
          </label>
          <input
            id="search-users"
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value.slice(0, 200))}
            placeholder="Search users by name or email"
            className="w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm focus:outline-none focus:ring-2 focus:ring-brand-500"
          />
        </div>
        <ListState isLoading={users.isLoading} error={users.error} empty={items.length === 0}>
          <ListCount
            shown={items.length}
            total={items.total}
            updating={users.isPlaceholderData && users.isFetching}
          />
          <DataTable
            label="Users"
            sort={{ value: sort, onChange: setSort }}
            headers={[
              { label: 'Email', sort: 'email' },
              { label: 'Name', sort: 'name' },
              'Account',
              'Group',
              { label: 'Status', sort: 'status' },
              'MFA',
              '',
            ]}
            rows={items.map((user) => [
              <Link key="email" className="text-brand-700 underline" href={`/users/${user.id}`}>
                {user.email}
              </Link>,
              user.name,
              user.accountName,
              groupName.get(user.groupId) ?? '—',
              user.status,
              user.mfaEnabled ? 'on' : 'off',
              can.explain ? (
                <Link
                  key="access"
                  className="text-brand-700 underline"
                  aria-label={`Access: what ${user.email} can see`}
                  href={`/groups?user=${user.id}`}
                >
                  Access
                </Link>
              ) : null,
            ])}
          />
          <LoadMore list={users} />
        </ListState>
      </PanelSection>
      {can.create ? (
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
            <RecordPicker
              id="field-accountId"
              label="Account"
              sources={[
                {
                  resource: 'resellers',
                  toOption: (reseller) => ({
                    id: reseller.id,
                    label: String(reseller.name),
                    detail: `under ${String(reseller.parentName ?? '')}`,
                  }),
                },
              ]}
              local={[{ id: own.id, label: own.name, detail: 'your account' }]}
              value={accountId}
              onChange={(id) => {
                form.form.setValue('accountId', id, { shouldDirty: true });
                form.form.setValue('groupId', '');
              }}
              error={form.fields.accountId}
              required
            />
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
