'use client';

import { useListAddress } from '@/lib/client/address-state';
import { PanelLink } from '@/components/ui/panel-link';
import { useDebounced } from '@/lib/client/use-debounced';
import { useQueries } from '@tanstack/react-query';
import { useApiMutation, useJoinedFetch, usePagedList } from '@/lib/client/use-resource';
import { createdToast } from '@/components/ui/toast';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { useSchemaForm } from '@/lib/client/use-schema-form';
import { ZCardCreate, type TCardDto } from '@/lib/shared/schemas/cards';
import { MAX_LISTED_IDS } from '@/lib/shared/schemas/accounts';
import type { TPage } from '@/lib/shared/schemas/common';
import type { UseFormRegisterReturn } from 'react-hook-form';
import { MAX_DECIMALS, MIN_DECIMALS, type TRoundingMode } from '@/lib/shared/pricing/money';
import { Button, ListState, LoadMore, SelectField, TextField } from '@/components/ui/field';
import { DataTable, FormMessage, ListCount, PanelSection } from '@/components/ui/panel-section';
import type { TCardAbilities } from '@/lib/shared/ui-abilities';

/**
 * Rate cards (DESIGN §1 "Master mode" / "Reseller mode"): the account's provider cards —
 * its own upstream cards and every card assigned to it — and its customer cards,
 * searched, sorted and counted on the server; each name opens the card's page (rates,
 * import/export, derive, assignments and margin report).
 */
export function CardsPanel({
  accountId,
  can,
  readsAccounts,
  customerView = false,
  rendered,
}: {
  accountId: string;
  can: TCardAbilities;
  /** The account lists the viewer reads: a card below it is named by its owner from them. */
  readsAccounts: { resellers: boolean; customers: boolean };
  /**
   * A customer's people (issue 19): the card they are charged by, nothing to buy or
   * sell — one list, not "provider" and "customer" sections.
   */
  customerView?: boolean;
  /** New with each server render of the page (`useAddressState`). */
  rendered?: string;
}) {
  // Kept in the address: Back from a card's page finds the list as it was left.
  const [{ q: search, sort }, setSearch, setSort] = useListAddress(rendered, ['name', 'createdAt']);
  const q = useDebounced(search.trim(), 250);
  const list = usePagedList<TCardDto>(queryKeys.list('cards', { q, sort }));
  const items = list.data ?? [];
  const byId = new Map(items.map((card) => [card.id, card]));
  const name = (card: TCardDto) => (
    <PanelLink key="name" className="text-brand-700 underline" href={`/cards/${card.id}`}>
      {card.name}
    </PanelLink>
  );
  const owners = useOwnerNames(items, accountId, readsAccounts);
  const ownerCell = (card: TCardDto) => (
    <CardOwner key="owner" card={card} accountId={accountId} owners={owners} />
  );
  const sorting = { value: sort, onChange: setSort };

  return (
    <div className="grid gap-6 lg:grid-cols-[2fr_1fr]">
      <div className="space-y-6">
        <div>
          <label htmlFor="search-cards" className="sr-only">
            Search cards
          </label>
          <input
            id="search-cards"
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value.slice(0, 200))}
            placeholder="Search cards by name"
            className="w-full rounded-md border border-slate-300 px-3 py-1.5 text-sm focus:outline-none focus:ring-2 focus:ring-brand-500"
          />
          {list.data ? (
            <ListCount
              shown={items.length}
              total={items.total}
              updating={list.isPlaceholderData && list.isFetching}
            />
          ) : null}
        </div>
        {customerView ? (
          <PanelSection title="Your rate card">
            <ListState isLoading={list.isLoading} error={list.error} empty={items.length === 0}>
              <DataTable
                label="Your rate card"
                sort={sorting}
                headers={[{ label: 'Name', sort: 'name' }, 'Currency', 'Rates']}
                rows={items.map((card) => [name(card), card.currency, card.rateCount])}
              />
            </ListState>
            <LoadMore list={list} />
          </PanelSection>
        ) : (
          <>
            <PanelSection title="Provider cards">
              <ListState
                isLoading={list.isLoading}
                error={list.error}
                empty={!items.some((card) => card.kind === 'provider')}
              >
                <DataTable
                  label="Provider cards"
                  sort={sorting}
                  headers={[{ label: 'Name', sort: 'name' }, 'Owner', 'Currency', 'Rates']}
                  rows={items
                    .filter((card) => card.kind === 'provider')
                    .map((card) => [name(card), ownerCell(card), card.currency, card.rateCount])}
                />
              </ListState>
            </PanelSection>
            <PanelSection title="Customer cards">
              <ListState
                isLoading={list.isLoading}
                error={list.error}
                empty={!items.some((card) => card.kind === 'customer')}
              >
                <DataTable
                  label="Customer cards"
                  sort={sorting}
                  headers={[
                    { label: 'Name', sort: 'name' },
                    'Owner',
                    'Currency',
                    'Rates',
                    'Follows',
                    'Losing rows',
                  ]}
                  rows={items
                    .filter((card) => card.kind === 'customer')
                    .map((card) => {
                      const owner = card.relation === 'owner' ? card : null;
                      const parent = owner?.parentId ? byId.get(owner.parentId) : undefined;
                      return [
                        name(card),
                        ownerCell(card),
                        card.currency,
                        card.rateCount,
                        owner?.parentId ? (parent?.name ?? 'a card above') : '—',
                        // Counted only as a derived card's rows are priced (its page says
                        // so): a card built by hand, or one the viewer holds, has no count
                        // here, and "0" would claim it loses nothing.
                        !owner?.parentId ? (
                          '—'
                        ) : owner.losingRates > 0 ? (
                          <span className="font-semibold text-red-700">{owner.losingRates}</span>
                        ) : (
                          '0'
                        ),
                      ];
                    })}
                />
              </ListState>
              <LoadMore list={list} />
            </PanelSection>
          </>
        )}
      </div>
      {can.create ? <CreateCardForm /> : null}
    </div>
  );
}

function CreateCardForm() {
  const create = useApiMutation<unknown, TCardDto>('POST', '/cards', [queryKeys.list('cards')], {
    success: createdToast('cards'),
  });
  const form = useSchemaForm({
    schema: ZCardCreate,
    defaultValues: {
      name: '',
      currency: '',
      kind: 'customer',
      decimals: '4',
      rounding: 'half_up' as TRoundingMode,
    },
    toBody: (values) => ({
      ...values,
      currency: values.currency.toUpperCase(),
      decimals: Number(values.decimals),
    }),
    submit: create.mutateAsync,
  });
  return (
    <PanelSection title="Add card">
      <form onSubmit={form.onSubmit} className="space-y-3" noValidate aria-label="Add card">
        <TextField label="Name" {...form.register('name')} error={form.fields.name} required />
        <TextField
          label="Currency"
          {...form.register('currency')}
          placeholder="EUR"
          maxLength={3}
          error={form.fields.currency}
          required
        />
        <SelectField label="Kind" {...form.register('kind')} error={form.fields.kind}>
          <option value="customer">Customer card (what you sell)</option>
          <option value="provider">Provider card (what you buy)</option>
        </SelectField>
        <DecimalsField field={form.register('decimals')} error={form.fields.decimals} />
        <RoundingField field={form.register('rounding')} error={form.fields.rounding} />
        <FormMessage message={form.message} />
        <Button type="submit" disabled={form.pending}>
          Create card
        </Button>
      </form>
    </PanelSection>
  );
}

/** The precision select (the card's decimals); `field`: the form's `register('decimals')`. */
export function DecimalsField({
  id,
  error,
  field,
}: {
  id?: string;
  error?: string;
  field: UseFormRegisterReturn<'decimals'>;
}) {
  return (
    <SelectField id={id} label="Decimals" {...field} error={error}>
      {Array.from({ length: MAX_DECIMALS - MIN_DECIMALS + 1 }, (_, index) => (
        <option key={index} value={String(MIN_DECIMALS + index)}>
          {MIN_DECIMALS + index}
        </option>
      ))}
    </SelectField>
  );
}

/** The rounding select; `field`: the form's `register('rounding')`. */
export function RoundingField({
  id,
  error,
  field,
}: {
  id?: string;
  error?: string;
  field: UseFormRegisterReturn<'rounding'>;
}) {
  return (
    <SelectField id={id} label="Rounding" {...field} error={error}>
      <option value="half_up">Half up</option>
      <option value="half_even">Half even</option>
      <option value="up">Up (never below)</option>
      <option value="down">Down</option>
    </SelectField>
  );
}

/** Where a card's owner below the viewer is shown: its record's page and name. */
type TOwnerLink = { href: string; name: string };

/** The owners' names known, and the owners whose answer has come (named or not). */
interface TOwners {
  names: ReadonlyMap<string, TOwnerLink>;
  answered: ReadonlySet<string>;
}

/**
 * The owners below the viewer of the cards listed: read from the reseller and customer
 * lists the viewer may read, a hundred ids a request (`?ids=`), instead of one record
 * request per owner (a carrier's page of fifty cards held by fifty resellers sent up to
 * a hundred). The ids go in the list's order, so loading more cards leaves the earlier
 * requests as they were (a request whose ids changed shows "…" until it answers). The
 * live cache patches these sets in place: a rename shows without a reload, and a
 * balance moved by calls costs no request. An owner in no answer (a list the viewer may
 * not read) is absent.
 */
function useOwnerNames(
  cards: readonly TCardDto[],
  accountId: string,
  reads: { resellers: boolean; customers: boolean },
): TOwners {
  const joinedFetch = useJoinedFetch();
  const below = [
    ...new Set(
      cards.flatMap((card) =>
        card.relation === 'owner' && card.ownerId !== accountId ? [card.ownerId] : [],
      ),
    ),
  ];
  const chunks: string[][] = [];
  for (let at = 0; at < below.length; at += MAX_LISTED_IDS) {
    chunks.push(below.slice(at, at + MAX_LISTED_IDS));
  }
  const kinds = (['resellers', 'customers'] as const).filter((kind) => reads[kind]);
  const queries = kinds.flatMap((kind) => chunks.map((ids) => ({ kind, ids })));
  const answers = useQueries({
    queries: queries.map(({ kind, ids }) => {
      const queryKey = queryKeys.list(kind, { ids: ids.join(',') });
      return {
        queryKey,
        // Shaped as a list (pages), as the live cache patches lists.
        queryFn: async ({ signal }: { signal: AbortSignal }) => ({
          pages: [
            await joinedFetch<TPage<{ id: string; name: string; version?: number }>>(
              pathOf(queryKey, { limit: String(ids.length) }),
              { signal },
            ),
          ],
          pageParams: [null],
        }),
        select: (data: { pages: TPage<{ id: string; name: string }>[] }) =>
          data.pages.flatMap((page) =>
            page.items.map(
              (item) => [item.id, { href: `/${kind}/${item.id}`, name: item.name }] as const,
            ),
          ),
      };
    }),
  });
  const names = new Map(answers.flatMap((answer) => answer.data ?? []));
  // An owner is answered once every list the viewer reads has answered for its ids.
  const answered = new Set(
    chunks.flatMap((ids, chunk) =>
      kinds.every((_, kind) => {
        const answer = answers[kind * chunks.length + chunk];
        return answer && (answer.isSuccess || answer.isError);
      })
        ? ids
        : [],
    ),
  );
  return { names, answered };
}

/**
 * Who owns a card, as its list says it: "You", "Assigned to you" (an assignee never learns
 * the seller's own account through its card), or the account below that owns it, named
 * when the viewer reads that kind of account (useOwnerNames), else "Below you".
 */
function CardOwner({
  card,
  accountId,
  owners,
}: {
  card: TCardDto;
  accountId: string;
  owners: TOwners;
}) {
  if (card.relation === 'assigned') return <>Assigned to you</>;
  if (card.ownerId === accountId) return <>You</>;
  const found = owners.names.get(card.ownerId);
  if (found) {
    return (
      <PanelLink className="text-brand-700 underline" href={found.href}>
        {found.name}
      </PanelLink>
    );
  }
  // Not "Below you" before the answer: that would say the viewer may not know it.
  return owners.answered.has(card.ownerId) ? (
    <>Below you</>
  ) : (
    <span className="text-slate-500">
      <span aria-hidden>…</span>
      <span className="sr-only">Loading</span>
    </span>
  );
}
