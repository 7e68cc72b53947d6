'use client';

import { useState } from 'react';
import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import { createdToast } from '@/components/ui/toast';
import { queryKeys } from '@/lib/client/query-keys';
import { optional, useSchemaForm } from '@/lib/client/use-schema-form';
import {
  ZCustomerCreate,
  ZResellerCreate,
  type TCustomerDto,
  type TResellerDto,
} from '@/lib/shared/schemas/accounts';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { Button, ListState, LoadMore, TextField } from '@/components/ui/field';
import { DataTable, FormMessage, PanelSection } from '@/components/ui/panel-section';
import { AccountEditForm } from './account-edit-form';
import { TransferForm } from './transfer-form';
import { ResellerDetail } from './reseller-detail';
import { PresenceAvatars } from '@/components/live/presence-avatars';

type TKind = 'resellers' | 'customers';

/** The resellers or customers page: the list in scope, a create form, and editing. */
export function AccountsPanel({
  kind,
  can,
  own,
}: {
  kind: TKind;
  can: TUiAbilities['resellers' | 'customers'];
  /** The viewer's own account: a transfer may move a customer to it. */
  own?: { id: string; name: string };
}) {
  const [editing, setEditing] = useState<TResellerDto | TCustomerDto | null>(null);
  const [viewing, setViewing] = useState<TResellerDto | null>(null);
  const [search, setSearch] = useState('');
  // A search is its own (filtered) list: the live cache refetches it on any change.
  const list = usePagedList<TResellerDto | TCustomerDto>(
    queryKeys.list(kind, { q: search.trim() }),
  );
  const create = useApiMutation<unknown, unknown>('POST', `/${kind}`, [queryKeys.list(kind)], {
    success: createdToast(kind),
  });
  const form = useSchemaForm({
    schema: kind === 'resellers' ? ZResellerCreate : ZCustomerCreate,
    defaultValues: { name: '', email: '', creditLimit: '' },
    toBody: (values) => ({
      name: values.name,
      email: kind === 'resellers' ? values.email : optional(values.email),
      ...(kind === 'customers' ? { creditLimit: optional(values.creditLimit) } : {}),
    }),
    submit: create.mutateAsync,
  });
  const items = list.data ?? [];
  const title = kind === 'resellers' ? 'Resellers' : 'Customers';

  return (
    <div className="space-y-6">
      <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
        <PanelSection
          title={title}
          actions={<PresenceAvatars topic={`page:${kind}`} label="on this page" />}
        >
          <div className="mb-3">
            <label htmlFor={`search-${kind}`} className="sr-only">
              Search {title.toLowerCase()}
            </label>
            <input
              id={`search-${kind}`}
              type="search"
              value={search}
              onChange={(event) => setSearch(event.target.value.slice(0, 200))}
              placeholder={`Search ${title.toLowerCase()} by name or email`}
              className="w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm focus:outline-none focus:ring-2 focus:ring-brand-500"
            />
          </div>
          <ListState isLoading={list.isLoading} error={list.error} empty={items.length === 0}>
            <DataTable
              label={title}
              headers={
                kind === 'resellers'
                  ? ['Company', 'Email', 'Status', '']
                  : ['Name', 'Email', 'Credit limit', 'Status', '']
              }
              rows={items.map((item) => {
                const edit = can.edit ? (
                  <button
                    type="button"
                    className="text-brand-700 underline"
                    aria-label={`Edit ${item.name}`}
                    onClick={() => setEditing(item)}
                  >
                    Edit
                  </button>
                ) : null;
                if ('creditLimit' in item) {
                  return [item.name, item.email ?? '—', item.creditLimit ?? '—', item.status, edit];
                }
                const details = (
                  <button
                    type="button"
                    className="mr-3 text-brand-700 underline"
                    aria-label={`Details of ${item.name}`}
                    onClick={() => setViewing(item)}
                  >
                    Details
                  </button>
                );
                return [
                  item.name,
                  item.email ?? '—',
                  item.status,
                  <span key="actions">
                    {details}
                    {edit}
                  </span>,
                ];
              })}
            />
            <LoadMore list={list} />
          </ListState>
        </PanelSection>
        {editing ? (
          <PanelSection title={`Edit ${editing.name}`}>
            <AccountEditForm
              key={`${editing.id}:${editing.version}`}
              kind={kind}
              account={editing}
              latest={items.find((item) => item.id === editing.id)}
              onDone={() => setEditing(null)}
              onReload={setEditing}
            />
            {kind === 'customers' && own ? (
              <TransferForm
                customer={editing as TCustomerDto}
                own={own}
                onDone={() => setEditing(null)}
              />
            ) : null}
          </PanelSection>
        ) : can.create ? (
          <PanelSection title={kind === 'resellers' ? 'Add reseller account' : 'Add customer'}>
            <form
              onSubmit={form.onSubmit}
              className="space-y-3"
              noValidate
              aria-label={kind === 'resellers' ? 'Add reseller account' : 'Add customer'}
            >
              <TextField
                label={kind === 'resellers' ? 'Company name' : 'Name'}
                {...form.register('name')}
                error={form.fields.name}
                required
              />
              <TextField
                label="Email"
                {...form.register('email')}
                type="email"
                error={form.fields.email}
                required={kind === 'resellers'}
              />
              {kind === 'customers' ? (
                <TextField
                  label="Credit limit"
                  {...form.register('creditLimit')}
                  inputMode="decimal"
                  placeholder="500.00"
                  error={form.fields.creditLimit}
                />
              ) : null}
              <FormMessage message={form.message} />
              <Button type="submit" disabled={form.pending}>
                Save
              </Button>
            </form>
          </PanelSection>
        ) : null}
      </div>
      {viewing ? (
        <ResellerDetail key={viewing.id} reseller={viewing} onClose={() => setViewing(null)} />
      ) : null}
    </div>
  );
}
