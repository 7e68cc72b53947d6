'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { type TPageOf } from '@/lib/client/api';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { useDebounced } from '@/lib/client/use-debounced';
import { useAddressState } from '@/lib/client/address-state';
import { pathOf, queryKeys, searchOf } from '@/lib/client/query-keys';
import {
  dayRangeOf,
  DayRangeFields,
  FilterActions,
  FilterInError,
} from '@/components/ui/filter-form';
import {
  UNRATED_REASONS,
  type TUsageRecordDto,
  type TUsageStatus,
} from '@/lib/shared/schemas/usage';
import { callMoney, UNRATED_REASON_TEXT } from '@/lib/shared/traffic';
import { decimalsByCurrency, formatCallLength } from '@/lib/shared/format';
import { ListState, LoadMore, SelectField, TextField } from '@/components/ui/field';
import { accountSources, RecordPicker } from '@/components/pickers/record-picker';
import { DataTable, ListCount, PanelSection } from '@/components/ui/panel-section';
import { PanelLink } from '@/components/ui/panel-link';
import { Money } from '@/components/ui/money';
import { DateTime } from '@/components/ui/date-time';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import type { TComboOption } from '@/components/ui/combobox';

/** The filters the page's address may carry (`/calls?status=unrated&reason=no_route`). */
export interface TCallFilters {
  accountId: string;
  number: string;
  status: '' | TUsageStatus;
  reason: string;
  fromDay: string;
  toDay: string;
}

export const NO_CALL_FILTERS: TCallFilters = {
  accountId: '',
  number: '',
  status: '',
  reason: '',
  fromDay: '',
  toDay: '',
};

/** Whom the page is drawn for: its account (whose money the columns are), what it may name. */
export interface TCallsViewer {
  accountId: string;
  accountName: string;
  /** A customer's own people see their calls and the price they paid, nothing else. */
  isCustomer: boolean;
  /** Accounts below may be picked (and named, linked) with their read grants. */
  readsResellers: boolean;
  readsCustomers: boolean;
}

/** The filters as the page's address keeps them (the page names the account back). */
function callsAddress(filters: TCallFilters): string {
  return searchOf({
    account: filters.accountId || undefined,
    number: filters.number.trim() || undefined,
    status: filters.status || undefined,
    reason: filters.reason || undefined,
    from: filters.fromDay || undefined,
    to: filters.toDay || undefined,
  });
}

/**
 * The calls page (a carrier's CDR search): every call in the viewer's subtree, newest
 * received first, by account, dialled number, status and unrated reason, and days in the
 * viewer's time zone, live (a `traffic` key: refetched at most once a second while calls
 * are rated), and the same selection as a CSV download. Each call's money is read from the
 * viewer's seat (`callMoney`): the customer's price, what was paid to the viewer, what it
 * paid and the margin; a customer sees only its price. Starts are shown to the second, not
 * "2 min ago": a call list is read against the switch's own records.
 */
export function CallsPanel({
  viewer,
  initial = NO_CALL_FILTERS,
  record,
  rendered,
  account = null,
}: {
  viewer: TCallsViewer;
  initial?: TCallFilters;
  /** The account `initial` names, as the picker shows it (the page read it in scope). */
  account?: TComboOption | null;
  /** New with each server render of the page (`useAddressState`); none on a record's tab. */
  rendered?: string;
  /**
   * A record page's Calls tab: the calls of that account (a reseller's whole subtree),
   * no account to pick, and the page's address left as it is (it names the tab).
   */
  record?: { id: string; name: string; kind: 'reseller' | 'customer' };
}) {
  const [filters, setFilters] = useAddressState(
    { ...initial, accountId: record?.id ?? initial.accountId },
    rendered,
    callsAddress,
  );
  // Typed as the price trace takes a number: `+44 1481-700 123` is 441481700123.
  const number = useDebounced(filters.number.replace(/[\s+().-]/g, ''), 300);
  const numberError = number && !/^\d{1,32}$/.test(number) ? 'must be digits' : undefined;
  const days = dayRangeOf(filters);
  // A filter in error narrows nothing: the list and its export wait for it, rather than
  // show (and download) more than the form says.
  const inError = Boolean(numberError || days.error);
  const sent: Record<string, string | undefined> = {
    accountId: filters.accountId || undefined,
    number: numberError ? undefined : number || undefined,
    status: filters.reason ? 'unrated' : filters.status || undefined,
    reason: filters.reason || undefined,
    ...days.window,
  };
  // Accounts below, searched on the server, as far as the viewer may read them.
  const picks = viewer.readsResellers || viewer.readsCustomers;
  // The record's own account is the tab's scope, not a filter someone set.
  const narrowed = Object.entries(sent).some(
    ([name, value]) => value && !(record && name === 'accountId'),
  );
  const emptyText = narrowed
    ? 'No call in this selection.'
    : !record
      ? 'No calls yet.'
      : record.kind === 'reseller'
        ? `No calls below ${record.name} yet.`
        : `${record.name} has made no calls yet.`;
  const set = (change: Partial<TCallFilters>) => setFilters((held) => ({ ...held, ...change }));
  return (
    <div className="grid grid-cols-[minmax(0,1fr)] gap-6 lg:grid-cols-[minmax(0,1fr)_minmax(0,3fr)]">
      <PanelSection title="Filters">
        <form
          className="space-y-3"
          aria-label="Call filters"
          onSubmit={(event) => event.preventDefault()}
        >
          {picks && !viewer.isCustomer && !record ? (
            <RecordPicker
              // Another account named by a navigation (not a pick here): shown by its name.
              key={account?.id ?? ''}
              id="calls-account"
              label="Account"
              sources={accountSources({
                resellers: viewer.readsResellers,
                customers: viewer.readsCustomers,
              })}
              value={filters.accountId}
              initialOption={account}
              onChange={(id) => set({ accountId: id })}
              placeholder="Every account"
            />
          ) : null}
          <TextField
            label="Number starts with"
            name="number"
            inputMode="numeric"
            value={filters.number}
            error={numberError}
            onChange={(event) => set({ number: event.target.value })}
          />
          <SelectField
            label="Status"
            name="status"
            value={filters.reason ? 'unrated' : filters.status}
            onChange={(event) =>
              set({
                status: event.target.value as TCallFilters['status'],
                // A reason is an unrated call's: rated calls have none.
                ...(event.target.value === 'unrated' ? {} : { reason: '' }),
              })
            }
          >
            <option value="">Any</option>
            <option value="rated">Rated</option>
            <option value="unrated">Unrated</option>
          </SelectField>
          <SelectField
            label="Unrated because"
            name="reason"
            value={filters.reason}
            onChange={(event) => set({ reason: event.target.value })}
          >
            <option value="">Any reason</option>
            {UNRATED_REASONS.map((reason) => (
              <option key={reason} value={reason}>
                {UNRATED_REASON_TEXT[reason] ?? reason}
              </option>
            ))}
          </SelectField>
          <DayRangeFields days={filters} error={days.error} onChange={set} />
          <FilterActions
            onClear={() => setFilters({ ...NO_CALL_FILTERS, accountId: record?.id ?? '' })}
            exportHref={inError ? null : `/api/v1/usage/export?${searchOf(sent)}`}
          />
        </form>
      </PanelSection>
      <PanelSection title="Calls">
        {inError ? (
          <FilterInError />
        ) : (
          <CallsTable
            viewer={viewer}
            filter={sent}
            // One customer's calls need no column naming it.
            showAccount={!viewer.isCustomer && record?.kind !== 'customer'}
            emptyText={emptyText}
          />
        )}
      </PanelSection>
    </div>
  );
}

function CallsTable({
  viewer,
  filter,
  showAccount,
  emptyText,
}: {
  viewer: TCallsViewer;
  filter: Record<string, string | undefined>;
  showAccount: boolean;
  emptyText: string;
}) {
  const joinedFetch = useJoinedFetch();
  const key = queryKeys.traffic('usage', { filter });
  const calls = useInfiniteQuery({
    queryKey: key,
    initialPageParam: '',
    queryFn: ({ pageParam, signal }) =>
      joinedFetch<TPageOf<TUsageRecordDto>>(
        pathOf(key, { limit: '50', cursor: pageParam || undefined }),
        { signal },
      ),
    getNextPageParam: (page) => page.nextCursor ?? undefined,
  });
  const rows = calls.data?.pages.flatMap((page) => page.items) ?? [];
  const money = !viewer.isCustomer;
  // Each money column at one precision (€1.56 beside €2.344 read as two kinds of number).
  const priced = rows.map((call) => callMoney(call, viewer.accountId));
  const decimals = {
    price: decimalsByCurrency(
      priced.map((one) => ({ amount: one.price?.amount, currency: one.price?.currency })),
    ),
    revenue: decimalsByCurrency(
      priced.map((one) => ({ amount: one.revenue?.amount, currency: one.revenue?.currency })),
    ),
    cost: decimalsByCurrency(
      priced.map((one) => ({ amount: one.cost?.amount, currency: one.cost?.currency })),
    ),
    margin: decimalsByCurrency(
      priced.map((one) => ({ amount: one.margin, currency: one.revenue?.currency })),
    ),
  };
  return (
    <ListState
      isLoading={calls.isLoading}
      error={calls.error}
      empty={calls.isSuccess && !rows.length}
      emptyText={emptyText}
      onRetry={() => calls.refetch()}
    >
      <ListCount shown={rows.length} total={undefined} />
      {/* The order is the calls' arrival (a late record sits above calls that started
          after it): said, as only the start time is shown. */}
      <p className="mb-2 text-xs text-slate-500">Newest received first.</p>
      <DataTable
        label="Calls"
        headers={[
          'Started',
          ...(showAccount ? ['Account'] : []),
          'Number',
          'Destination',
          'Length',
          'Status',
          'Price',
          ...(money ? ['Revenue', 'Cost', 'Margin'] : []),
        ]}
        rows={rows.map((call, index) => {
          const { price, revenue, cost, margin } = priced[index]!;
          const named = price ?? revenue ?? cost;
          return [
            <DateTime key="at" at={call.startedAt} />,
            ...(showAccount ? [<CallAccount key="account" call={call} viewer={viewer} />] : []),
            <span key="number" className="tabular-nums">
              {call.number}
            </span>,
            named?.destination ?? '—',
            <span key="length" className="tabular-nums" title={`${call.seconds} s`}>
              {formatCallLength(call.seconds)}
            </span>,
            call.status === 'rated' ? (
              call.pricedAt ? (
                // Re-rated after its cards were fixed: priced by them as they stood then.
                <span key="status">
                  rated{' '}
                  <span className="block text-xs text-slate-600">
                    at the rates of <DateTime at={call.pricedAt} />
                  </span>
                </span>
              ) : (
                'rated'
              )
            ) : (
              <span key="status" className="text-amber-800">
                unrated: {UNRATED_REASON_TEXT[call.reason ?? ''] ?? call.reason}
              </span>
            ),
            <Money
              key="price"
              amount={price?.amount}
              currency={price?.currency}
              minDecimals={decimals.price(price?.currency)}
            />,
            ...(money
              ? [
                  <Money
                    key="revenue"
                    amount={revenue?.amount}
                    currency={revenue?.currency}
                    minDecimals={decimals.revenue(revenue?.currency)}
                  />,
                  <Money
                    key="cost"
                    amount={cost?.amount}
                    currency={cost?.currency}
                    minDecimals={decimals.cost(cost?.currency)}
                  />,
                  <Money
                    key="margin"
                    amount={margin}
                    currency={revenue?.currency}
                    minDecimals={decimals.margin(revenue?.currency)}
                  />,
                ]
              : []),
          ];
        })}
      />
      <LoadMore list={calls} />
    </ListState>
  );
}

/** The calling account: by name, linked, where the viewer may read it; else its id. */
function CallAccount({ call, viewer }: { call: TUsageRecordDto; viewer: TCallsViewer }) {
  if (call.accountId === viewer.accountId) return <>{viewer.accountName}</>;
  if (call.accountName === null) {
    return <span className="font-mono text-xs">{call.accountId.slice(0, 8)}</span>;
  }
  return (
    <PanelLink href={`/customers/${call.accountId}`} className="text-brand-700 underline">
      {call.accountName}
    </PanelLink>
  );
}
/** A reseller's or customer's Calls tab: the calls page narrowed to that account, seen from the viewer's own. */
export function RecordCalls({
  record,
  own,
  can,
}: {
  record: { id: string; name: string; kind: 'reseller' | 'customer' };
  own: { id: string; name: string };
  can: Pick<TUiAbilities, 'sections'>;
}) {
  return (
    <CallsPanel
      record={record}
      viewer={{
        accountId: own.id,
        accountName: own.name,
        // A record page is the side above the account: never the customer's own seat.
        isCustomer: false,
        readsResellers: can.sections.resellers,
        readsCustomers: can.sections.customers,
      }}
    />
  );
}
