'use client';

import { useListAddress } from '@/lib/client/address-state';
import { PanelLink } from '@/components/ui/panel-link';
import { useState } from 'react';
import { useWatch } from 'react-hook-form';
import { apiFetch } from '@/lib/client/api';
import { useApiMutation, usePagedList } from '@/lib/client/use-resource';
import { createdToast } from '@/components/ui/toast';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { useDebounced } from '@/lib/client/use-debounced';
import { queryKeys } from '@/lib/client/query-keys';
import { optional, useSchemaForm } from '@/lib/client/use-schema-form';
import {
  ACCOUNT_SORT_KEYS,
  ZCustomerCreate,
  ZResellerCreate,
  type TAccountBulkImpact,
  type TCustomerDto,
  type TResellerDto,
} from '@/lib/shared/schemas/accounts';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { Button, ListState, LoadMore, TextField } from '@/components/ui/field';
import { Money } from '@/components/ui/money';
import { statusText } from '@/lib/shared/format';
import { DataTable, FormMessage, ListCount, PanelSection } from '@/components/ui/panel-section';
import { PresenceAvatars } from '@/components/live/presence-avatars';
import { RecordPicker } from '@/components/pickers/record-picker';
import { AccountBelowPicker } from '@/components/pickers/account-below-picker';
import { plural, suspendConsequence } from './suspend-consequence';

type TKind = 'resellers' | 'customers';

/**
 * The resellers or customers page: the list in scope (searched, sorted and counted on
 * the server; each name opens the record's page), bulk actions on the rows selected, a
 * CSV export of the list as filtered, and the create form.
 */
export function AccountsPanel({
  kind,
  can,
  own,
  canAssign = false,
  pickParent = false,
  rendered,
}: {
  kind: TKind;
  can: TUiAbilities['resellers' | 'customers'];
  /** The viewer's own account: the owner of the cards it may assign. */
  own?: { id: string; name: string };
  /** May assign its customer cards (bulk "Assign card"). */
  canAssign?: boolean;
  /**
   * Reads resellers: a new account may be made under one of them (the old panel's
   * resellers "have affiliation with customers"), not only under the viewer's own.
   */
  pickParent?: boolean;
  /** New with each server render of the page (`useAddressState`). */
  rendered?: string;
}) {
  // Kept in the address: Back from a record's page finds the list as it was left.
  const [{ q: search, sort }, setSearch, setSort] = useListAddress(rendered, ACCOUNT_SORT_KEYS);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const q = useDebounced(search.trim(), 250);
  // A search or a sort is its own (filtered) list: the live cache refetches it on changes.
  const list = usePagedList<TResellerDto | TCustomerDto>(queryKeys.list(kind, { q, sort }));
  const create = useApiMutation<unknown, unknown>('POST', `/${kind}`, [queryKeys.list(kind)], {
    success: createdToast(kind),
  });
  const form = useSchemaForm({
    schema: kind === 'resellers' ? ZResellerCreate : ZCustomerCreate,
    defaultValues: { name: '', email: '', creditLimit: '', currency: '', parentId: own?.id ?? '' },
    toBody: (values) => ({
      name: values.name,
      // The viewer's own account is the default parent: left out, as before.
      parentId: values.parentId && values.parentId !== own?.id ? values.parentId : undefined,
      email: kind === 'resellers' ? values.email : optional(values.email),
      currency: optional(values.currency)?.toUpperCase(),
      creditLimit: optional(values.creditLimit),
    }),
    submit: create.mutateAsync,
  });
  const parentId = useWatch({ control: form.form.control, name: 'parentId' });
  const items = list.data ?? [];
  const title = kind === 'resellers' ? 'Resellers' : 'Customers';
  const exportHref = `/api/v1/${kind}/export?${new URLSearchParams({
    ...(q ? { q } : {}),
    ...(sort ? { sort } : {}),
  })}`;
  const shownSelected = items.filter((item) => selected.has(item.id));

  return (
    <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
      <PanelSection
        title={title}
        actions={
          <div className="flex items-center gap-3">
            <a className="text-sm text-brand-700 underline" href={exportHref} download>
              Export CSV
            </a>
            <PresenceAvatars topic={`page:${kind}`} label="on this page" />
          </div>
        }
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
        {can.edit ? (
          <BulkBar
            kind={kind}
            selected={shownSelected}
            own={own}
            canAssign={canAssign}
            onDone={() => setSelected(new Set())}
          />
        ) : null}
        <ListState isLoading={list.isLoading} error={list.error} empty={items.length === 0}>
          <ListCount
            shown={items.length}
            total={items.total}
            updating={list.isPlaceholderData && list.isFetching}
          />
          <DataTable
            label={title}
            sort={{
              value: sort,
              onChange: (next) => {
                setSort(next);
                setSelected(new Set());
              },
            }}
            selection={
              can.edit
                ? {
                    rowIds: items.map((item) => item.id),
                    rowLabels: items.map((item) => item.name),
                    selected,
                    onChange: setSelected,
                  }
                : undefined
            }
            headers={
              kind === 'resellers'
                ? [
                    { label: 'Company', sort: 'name' },
                    'Parent',
                    { label: 'Email', sort: 'email' },
                    { label: 'Status', sort: 'status' },
                  ]
                : [
                    { label: 'Name', sort: 'name' },
                    'Owner',
                    { label: 'Email', sort: 'email' },
                    'Credit limit',
                    'Balance',
                    { label: 'Status', sort: 'status' },
                  ]
            }
            rows={items.map((item) => {
              const name = (
                <PanelLink
                  key="name"
                  className="text-brand-700 underline"
                  href={`/${kind}/${item.id}`}
                >
                  {item.name}
                </PanelLink>
              );
              if (!('depth' in item)) {
                return [
                  name,
                  item.parentName,
                  item.email ?? '—',
                  <Money key="limit" amount={item.creditLimit} currency={item.currency} />,
                  <Money key="balance" amount={item.balance} currency={item.currency} />,
                  statusText(item),
                ];
              }
              return [name, item.parentName, item.email ?? '—', statusText(item)];
            })}
          />
          <LoadMore list={list} />
        </ListState>
      </PanelSection>
      {can.create ? (
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
            {pickParent && own ? (
              <AccountBelowPicker
                id={`new-${kind}-parent`}
                label="Under"
                value={parentId}
                onChange={(id) =>
                  form.form.setValue('parentId', id || own.id, { shouldDirty: true })
                }
                local={[{ id: own.id, label: own.name, detail: 'your account' }]}
                error={form.fields.parentId}
              />
            ) : null}
            <TextField
              label="Currency (ISO 4217; empty: the parent's, fixed once saved)"
              {...form.register('currency')}
              autoComplete="off"
              maxLength={3}
              placeholder="EUR"
              error={form.fields.currency}
            />
            <TextField
              label="Credit limit (empty: none; 0: prepaid)"
              {...form.register('creditLimit')}
              inputMode="decimal"
              error={form.fields.creditLimit}
            />
            <FormMessage message={form.message} />
            <Button type="submit" disabled={form.pending}>
              Save
            </Button>
          </form>
        </PanelSection>
      ) : null}
    </div>
  );
}

/**
 * What can be done to the selected rows at once: suspend, resume, and give them one of
 * the viewer's customer cards. Each is one request the server does all or nothing.
 */
function BulkBar({
  kind,
  selected,
  own,
  canAssign,
  onDone,
}: {
  kind: TKind;
  selected: (TResellerDto | TCustomerDto)[];
  own?: { id: string; name: string };
  canAssign: boolean;
  onDone: () => void;
}) {
  const [cardId, setCardId] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [pending, setPending] = useState(false);
  const ids = selected.map((item) => item.id);
  const { confirm, dialog } = useConfirm();

  async function run(what: string, path: string, body: unknown) {
    setPending(true);
    setMessage(null);
    try {
      await apiFetch(path, { method: 'POST', body });
      setMessage({ ok: true, text: `${what}: ${ids.length} account(s).` });
      onDone();
    } catch (error) {
      setMessage({ ok: false, text: (error as Error).message });
    } finally {
      setPending(false);
    }
  }

  const result = message ? (
    <p
      role={message.ok ? 'status' : 'alert'}
      className={`mb-3 text-sm ${message.ok ? 'text-green-800' : 'text-red-800'}`}
    >
      {message.text}
    </p>
  ) : null;
  if (!selected.length) return result;
  return (
    <div
      role="group"
      aria-label="Bulk actions"
      className="mb-3 space-y-2 rounded-md border border-slate-200 bg-slate-50 p-3 text-sm"
    >
      <p>{selected.length} selected</p>
      <div className="flex flex-wrap items-end gap-2">
        <Button
          type="button"
          disabled={pending}
          onClick={async () => {
            const names = selected.map((item) => item.name);
            // What is below them, counted by the server (exact, within scope); should it
            // not answer, the dialog still names the accounts.
            const impact = await apiFetch<TAccountBulkImpact>(`/${kind}/bulk/impact`, {
              method: 'POST',
              body: { ids },
            }).catch(() => null);
            const sure = await confirm({
              title: `Suspend ${plural(names.length, 'account')}?`,
              consequence: `${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}: ${suspendConsequence(impact, names.length)}`,
              confirmLabel: 'Suspend',
              danger: true,
            });
            if (sure)
              await run('Suspended', `/${kind}/bulk`, { ids, status: 'suspended' as const });
          }}
        >
          Suspend selected
        </Button>
        <Button
          type="button"
          disabled={pending}
          onClick={() => void run('Resumed', `/${kind}/bulk`, { ids, status: 'active' as const })}
        >
          Resume selected
        </Button>
      </div>
      {canAssign && own ? (
        <div className="flex flex-wrap items-end gap-2">
          <div className="min-w-64 flex-1">
            <RecordPicker
              id={`bulk-card-${kind}`}
              label="Card to assign"
              sources={[
                {
                  resource: 'cards',
                  filter: { kind: 'customer', ownerId: own.id },
                  toOption: (card) => ({
                    id: card.id,
                    label: String(card.name),
                    detail: String(card.currency ?? ''),
                  }),
                },
              ]}
              value={cardId}
              onChange={(id) => setCardId(id)}
            />
          </div>
          <Button
            type="button"
            disabled={pending || !cardId}
            onClick={() =>
              void run('Card assigned', '/assignments/bulk', { cardId, accountIds: ids })
            }
          >
            Assign card to selected
          </Button>
        </div>
      ) : null}
      {result}
      {dialog}
    </div>
  );
}
