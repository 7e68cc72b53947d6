'use client';

import { useWatch } from 'react-hook-form';
import { useApiMutation } from '@/lib/client/use-resource';
import { queryKeys } from '@/lib/client/query-keys';
import { optional, useSchemaForm } from '@/lib/client/use-schema-form';
import { ZUserCreate, type TUserDto } from '@/lib/shared/schemas/users';
import { Button, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';
import { createdToast } from '@/components/ui/toast';
import { accountSources, RecordPicker } from '@/components/pickers/record-picker';

/**
 * The one Add-user form: on the Users page the account is picked (server-searched, so
 * any account in scope is reachable); on a reseller's page ("+ Add user") it is that
 * account. The group is mandatory and picked from what the server says the viewer may
 * give a user of the chosen account (`/groups?assignableTo=`: its own groups and those
 * above it, none holding more than the viewer) — searched there too, so a long list of
 * groups is reached whole. The server checks again on create.
 */
export function AddUserForm({
  account,
  own,
  accountsFrom = { resellers: true, customers: false },
  onCreated,
  onCancel,
}: {
  /** The account the user is for; absent, the form asks for it. */
  account?: { id: string; name: string };
  /**
   * Where the picker searches for it: resellers and customers (issue 19: a customer's
   * people) as far as the viewer reads them — a list it may not read would answer 403.
   */
  accountsFrom?: { resellers: boolean; customers: boolean };
  /** The viewer's own account: the picker's first choice (and its default). */
  own: { id: string; name: string };
  onCreated?: (user: TUserDto) => void;
  onCancel?: () => void;
}) {
  const create = useApiMutation<unknown, TUserDto>(
    'POST',
    '/users',
    [queryKeys.list('users', account ? { accountId: account.id } : undefined)],
    { success: createdToast('users') },
  );
  const form = useSchemaForm({
    schema: ZUserCreate,
    defaultValues: {
      email: '',
      name: '',
      password: '',
      accountId: account?.id ?? own.id,
      groupId: '',
    },
    toBody: (values) => ({
      ...values,
      accountId: account?.id ?? values.accountId,
      name: optional(values.name),
    }),
    submit: async (body) => {
      const user = await create.mutateAsync(body);
      onCreated?.(user);
      return user;
    },
  });
  const accountId = useWatch({ control: form.form.control, name: 'accountId' });
  const groupId = useWatch({ control: form.form.control, name: 'groupId' });
  return (
    <form
      onSubmit={form.onSubmit}
      className="space-y-3"
      noValidate
      aria-label={account ? `Add user to ${account.name}` : 'Add user'}
    >
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
      {account || (!accountsFrom.resellers && !accountsFrom.customers) ? (
        <TextField
          id="field-account"
          label="Account"
          name="account"
          value={(account ?? own).name}
          readOnly
        />
      ) : (
        <RecordPicker
          id="field-accountId"
          label="Account"
          sources={accountSources(accountsFrom)}
          local={[{ id: own.id, label: own.name, detail: 'your account' }]}
          value={accountId}
          onChange={(id) => {
            form.form.setValue('accountId', id, { shouldDirty: true });
            // Another account may not use the group chosen for the last one.
            form.form.setValue('groupId', '');
          }}
          error={form.fields.accountId}
          required
        />
      )}
      <RecordPicker
        // Another account is another list of groups: a fresh picker, nothing typed kept.
        key={accountId || 'none'}
        id="field-groupId"
        label="Group"
        placeholder={accountId ? 'Type to search groups…' : 'Choose the account first'}
        disabled={!accountId}
        sources={[
          {
            resource: 'groups',
            filter: { assignableTo: accountId },
            toOption: (group) => ({
              id: group.id,
              label: String(group.name),
              detail: group.useOnly ? 'from above' : undefined,
            }),
          },
        ]}
        value={groupId}
        onChange={(id) => form.form.setValue('groupId', id, { shouldDirty: true })}
        error={form.fields.groupId}
        required
      />
      <FormMessage message={form.message} />
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={form.pending}>
          Create user
        </Button>
        {onCancel ? (
          <button type="button" className="text-sm text-slate-600 underline" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
