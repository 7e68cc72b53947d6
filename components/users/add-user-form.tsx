'use client';

import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import { queryKeys } from '@/lib/client/query-keys';
import { optional, useSchemaForm } from '@/lib/client/use-schema-form';
import type { TGroupDto, TUseOnlyGroupDto } from '@/lib/shared/schemas/groups';
import { ZUserCreate, type TUserDto } from '@/lib/shared/schemas/users';
import { Button, SelectField, TextField } from '@/components/ui/field';
import { FormMessage } from '@/components/ui/panel-section';

/**
 * A new user of one given account (a reseller's page: "+ Add user"). The group is
 * mandatory and offered from the groups that account may use: its own and those of the
 * accounts above it that the viewer sees (`usableFrom`: the account, the accounts between
 * the viewer and it, the viewer's own), plus the use-only groups above the viewer. The
 * server checks again.
 */
export function AddUserForm({
  account,
  usableFrom,
  onCreated,
  onCancel,
}: {
  account: { id: string; name: string };
  usableFrom: string[];
  onCreated: (user: TUserDto) => void;
  onCancel: () => void;
}) {
  const groups = usePagedList<TGroupDto | TUseOnlyGroupDto>(queryKeys.list('groups'));
  const usable = (groups.data ?? []).filter(
    (group) => group.useOnly || usableFrom.includes(group.accountId),
  );
  const create = useApiMutation<unknown, TUserDto>('POST', '/users', [
    queryKeys.list('users', { accountId: account.id }),
  ]);
  const form = useSchemaForm({
    schema: ZUserCreate,
    defaultValues: { email: '', name: '', password: '', accountId: account.id, groupId: '' },
    toBody: (values) => ({ ...values, accountId: account.id, name: optional(values.name) }),
    submit: async (body) => onCreated(await create.mutateAsync(body)),
  });
  return (
    <form
      onSubmit={form.onSubmit}
      className="space-y-3"
      noValidate
      aria-label={`Add user to ${account.name}`}
    >
      <TextField
        id="add-user-email"
        label="Email"
        {...form.register('email')}
        type="email"
        error={form.fields.email}
        required
      />
      <TextField
        id="add-user-name"
        label="Name"
        {...form.register('name')}
        error={form.fields.name}
      />
      <TextField
        id="add-user-password"
        label="Password"
        {...form.register('password')}
        type="password"
        autoComplete="new-password"
        error={form.fields.password}
        required
      />
      <TextField
        id="add-user-account"
        label="Account"
        name="account"
        value={account.name}
        readOnly
      />
      <SelectField
        id="add-user-group"
        label="Group"
        {...form.register('groupId')}
        error={form.fields.groupId}
        required
      >
        <option value="" disabled>
          {groups.isLoading ? 'Loading groups…' : 'Choose a group (required)'}
        </option>
        {usable.map((group) => (
          <option key={group.id} value={group.id}>
            {group.name}
          </option>
        ))}
      </SelectField>
      <FormMessage message={form.message} />
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={form.pending}>
          Create user
        </Button>
        <button type="button" className="text-sm text-slate-600 underline" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
