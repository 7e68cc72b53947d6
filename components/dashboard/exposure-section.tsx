'use client';

import { PanelLink } from '@/components/ui/panel-link';
import { useState } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type TPageOf } from '@/lib/client/api';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { Money as Decimal } from '@/lib/shared/pricing/money';
import type { TExposurePage, TExposureRow } from '@/lib/shared/schemas/dashboard';
import { PanelSection } from '@/components/ui/panel-section';
import { Money } from '@/components/ui/money';
import { decimalsByCurrency } from '@/lib/shared/format';
import { InlineSelect, LoadMore } from '@/components/ui/field';

type TSortKey = 'available' | 'balance' | 'limit';
type TSort = TSortKey | `-${TSortKey}`;

const COLUMNS: [TSortKey, string][] = [
  ['balance', 'Balance'],
  ['limit', 'Credit limit'],
  ['available', 'Available'],
];

/** How many the chart shows: the largest debts among the accounts below. */
const CHART_ROWS = 8;

/**
 * Credit exposure of the accounts directly below the viewer's (issue 17): a table sorted
 * on the server (the most exposed first) and a bar chart of the largest debts. Both are
 * views over everything (`any-change` keys), so a payment or a usage anywhere refetches
 * them and they stay live. Amounts are never converted: with accounts in more than one
 * currency, both rank within the one chosen (the most used first).
 */
export function ExposureSection() {
  const [sort, setSort] = useState<TSort>('available');
  const [picked, setPicked] = useState<string | null>(null);
  // The currencies come with every page: until one is picked, the first answer (all of
  // them) names them, and with several the most used one is ranked. Kept in state, not
  // read off the current query, whose data is empty while the filtered one loads.
  const [currencies, setCurrencies] = useState<readonly string[]>([]);
  const currency = picked ?? (currencies.length > 1 ? currencies[0]! : null);
  const inCurrency = currency ? { currency } : {};
  const key = queryKeys.anyChange('dashboard', {
    sub: 'exposure',
    filter: { sort, ...inCurrency },
  });
  const joinedFetch = useJoinedFetch();
  const table = useInfiniteQuery({
    queryKey: key,
    initialPageParam: null as string | null,
    queryFn: async ({ pageParam, signal }) => {
      const page = await joinedFetch<TExposurePage>(
        pathOf(key, { limit: '20', ...(pageParam ? { cursor: pageParam } : {}) }),
        { signal },
      );
      if (page.currencies.join() !== currencies.join()) setCurrencies(page.currencies);
      return page;
    },
    getNextPageParam: (page) => page.nextCursor,
  });
  const chartKey = queryKeys.anyChange('dashboard', {
    sub: 'exposure',
    filter: { sort: 'balance', limit: String(CHART_ROWS), ...inCurrency },
  });
  const chart = useQuery({
    queryKey: chartKey,
    queryFn: ({ signal }) => joinedFetch<TPageOf<TExposureRow>>(pathOf(chartKey), { signal }),
    // The first answer says whether there is a currency to choose: wait for it.
    enabled: table.isSuccess && (currency !== null || currencies.length <= 1),
  });
  const rows = table.data?.pages.flatMap((page) => page.items) ?? [];
  const column = (amount: (row: TExposureRow) => string | null) =>
    decimalsByCurrency(rows.map((row) => ({ amount: amount(row), currency: row.currency })));
  const decimals = {
    balance: column((row) => row.balance),
    creditLimit: column((row) => row.creditLimit),
    available: column((row) => row.available),
  };
  const total = table.data?.pages[0]?.total;
  if (table.isSuccess && total === 0 && currencies.length === 0) return null;
  return (
    <PanelSection
      title={`Credit exposure${total === undefined ? '' : ` (${total}${currency ? ` in ${currency}` : ''})`}`}
      actions={
        currencies.length > 1 && currency ? (
          <InlineSelect label="Currency" value={currency} onChange={setPicked}>
            {currencies.map((code) => (
              <option key={code} value={code}>
                {code}
              </option>
            ))}
          </InlineSelect>
        ) : null
      }
    >
      <div className="grid gap-6 lg:grid-cols-[3fr_2fr]">
        <div className="overflow-x-auto">
          {table.isError ? (
            <p role="alert" className="text-sm text-red-700">
              Exposure could not be read.
            </p>
          ) : table.isLoading ? (
            <p className="text-sm text-slate-500">Loading…</p>
          ) : (
            <table className="w-full text-sm" aria-label="Credit exposure" data-testid="exposure">
              <thead>
                <tr className="text-left text-slate-600">
                  <th scope="col" className="py-1 pr-3 font-medium">
                    Account
                  </th>
                  {COLUMNS.map(([column, label]) => (
                    <SortHeader
                      key={column}
                      column={column}
                      label={label}
                      sort={sort}
                      onSort={setSort}
                    />
                  ))}
                  <th scope="col" className="py-1 font-medium">
                    Credit
                  </th>
                </tr>
              </thead>
              <tbody>
                {/* Each money column at one precision, so −€0.49 and −€5.3431 line up. */}
                {rows.map((row) => (
                  <tr key={row.id} className="border-t border-slate-100">
                    <td className="py-1 pr-3">
                      <PanelLink
                        href={`/${row.kind}s/${row.id}?tab=balance`}
                        className="font-medium text-brand-700 underline"
                      >
                        {row.name}
                      </PanelLink>{' '}
                      <span className="text-xs text-slate-500">{row.kind}</span>
                    </td>
                    <td className="py-1 pr-3 text-right tabular-nums">
                      <Money
                        amount={row.balance}
                        currency={row.currency}
                        minDecimals={decimals.balance(row.currency)}
                      />
                    </td>
                    <td className="py-1 pr-3 text-right tabular-nums">
                      {row.creditLimit === null ? (
                        '—'
                      ) : (
                        <Money
                          amount={row.creditLimit}
                          currency={row.currency}
                          minDecimals={decimals.creditLimit(row.currency)}
                        />
                      )}
                    </td>
                    <td className="py-1 pr-3 text-right tabular-nums">
                      {/* Without a limit nothing blocks it: its balance is not its credit. */}
                      {row.creditLimit === null ? (
                        'no limit'
                      ) : (
                        <Money
                          amount={row.available}
                          currency={row.currency}
                          minDecimals={decimals.available(row.currency)}
                        />
                      )}
                    </td>
                    <td className="py-1">
                      <CreditState row={row} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <LoadMore list={table} />
        </div>
        {/* "No account below owes anything" only once it is known: not while loading,
            nor when the read failed. */}
        {chart.isSuccess ? (
          <DebtChart rows={chart.data.items} />
        ) : chart.isError || table.isError ? (
          <p role="alert" className="text-sm text-red-700">
            The largest debts could not be read.
          </p>
        ) : (
          <p className="text-sm text-slate-500">Loading the largest debts…</p>
        )}
      </div>
    </PanelSection>
  );
}

function SortHeader({
  column,
  label,
  sort,
  onSort,
}: {
  column: TSortKey;
  label: string;
  sort: TSort;
  onSort: (sort: TSort) => void;
}) {
  const active = sort === column || sort === `-${column}`;
  const descending = sort === `-${column}`;
  return (
    <th
      scope="col"
      className="py-1 pr-3 text-right font-medium"
      aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}
    >
      <button
        type="button"
        className="underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
        onClick={() => onSort(active && !descending ? `-${column}` : column)}
      >
        {label}
        {active ? (descending ? ' ↓' : ' ↑') : ''}
      </button>
    </th>
  );
}

function CreditState({ row }: { row: TExposureRow }) {
  if (row.creditBlock === 'own') return <span className="font-medium text-red-700">Blocked</span>;
  if (row.creditBlock === 'above') return <span className="text-red-700">Blocked above</span>;
  if (row.warningThreshold !== null && new Decimal(row.available).lte(row.warningThreshold)) {
    return <span className="text-amber-700">Low</span>;
  }
  return <span className="text-slate-600">Open</span>;
}

/**
 * The largest debts (negative balances) as plain bars, each in its own currency: the
 * longest bar is the largest amount, the others to scale (amounts in different
 * currencies are labelled, not converted).
 */
function DebtChart({ rows }: { rows: TExposureRow[] }) {
  const debts = rows
    .filter((row) => new Decimal(row.balance).lt(0))
    .map((row) => ({ row, owed: new Decimal(row.balance).negated() }));
  const largest = debts.reduce((max, { owed }) => (owed.gt(max) ? owed : max), new Decimal(0));
  return (
    <figure aria-labelledby="exposure-chart-caption" data-testid="exposure-chart">
      <figcaption id="exposure-chart-caption" className="mb-2 text-sm font-semibold text-slate-700">
        Largest debts
      </figcaption>
      {debts.length === 0 ? (
        <p className="text-sm text-slate-600">No account below owes anything.</p>
      ) : (
        <ul className="space-y-2">
          {debts.map(({ row, owed }) => {
            const share = largest.isZero() ? 0 : owed.div(largest).times(100).toNumber();
            return (
              <li key={row.id} className="text-sm">
                <div className="flex justify-between gap-2">
                  <span className="truncate">{row.name}</span>
                  <Money
                    amount={owed.toFixed(6)}
                    currency={row.currency}
                    className="tabular-nums"
                  />
                </div>
                <div className="mt-0.5 h-2 rounded bg-slate-100" aria-hidden="true">
                  <div
                    className={`h-2 rounded ${row.creditBlocked ? 'bg-red-500' : 'bg-amber-500'}`}
                    style={{ width: `${Math.max(share, 2)}%` }}
                  />
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </figure>
  );
}
