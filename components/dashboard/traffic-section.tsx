'use client';

import { PanelLink } from '@/components/ui/panel-link';
import dynamic from 'next/dynamic';
import { useState, type ReactNode } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { apiFetch, type TPageOf } from '@/lib/client/api';
import { useConfirm } from '@/components/ui/confirm-dialog';
import { useJoinedFetch } from '@/lib/client/use-resource';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { useHydrated, useViewerLocale } from '@/lib/client/use-viewer-locale';
import { Money as Decimal } from '@/lib/shared/pricing/money';
import type { TExposureRow } from '@/lib/shared/schemas/dashboard';
import type {
  TUsageRecordDto,
  TUsageRerated,
  TUsageSummary,
  TUsageSummaryBy,
  TUsageSummaryRow,
} from '@/lib/shared/schemas/usage';
import {
  dailySeries,
  countOf,
  minutesOf,
  rerateSentence,
  totalsByCurrency,
  trafficRefreshMs,
  UNRATED_REASON_TEXT,
  utcDayStart,
} from '@/lib/shared/traffic';
import { PanelSection } from '@/components/ui/panel-section';
import { Money } from '@/components/ui/money';
import { columnDecimals, decimalsByCurrency } from '@/lib/shared/format';
import { ListState, LoadMore } from '@/components/ui/field';
import { RelativeTime } from '@/components/ui/relative-time';
import type { TChartPoint } from './traffic-charts';
import { accountsChartHeight, DAYS_CHART_HEIGHT } from './chart-heights';
import { serverNow } from '@/lib/client/server-clock';

/**
 * The charts' code (recharts: most of a 470 KB script) is fetched when there is traffic
 * to draw, after the page is up: an Overview without calls never loads it, and one with
 * calls is usable while it arrives. They draw only in the browser either way (hydrated).
 */
const AccountsChart = dynamic(() => import('./traffic-charts').then((m) => m.AccountsChart), {
  ssr: false,
});
const DaysChart = dynamic(() => import('./traffic-charts').then((m) => m.DaysChart), {
  ssr: false,
});

type TPeriod = 'hour' | 'days';
const DAYS = 14;
const PERIODS: [TPeriod, string][] = [
  ['hour', 'Last hour'],
  [`days`, `Last ${DAYS} days`],
];
/** Accounts the chart shows: the most revenue first (the table has them all). */
const CHART_ACCOUNTS = 8;
const TOP = 5;

/** One step of the drill-down: the account whose children (or calls) are shown. */
interface TLevel {
  id: string;
  name: string;
  kind: 'root' | 'reseller' | 'customer';
}

/**
 * The traffic dashboard (issue 18): for the viewer's account — the carrier per reseller
 * and direct customer, a reseller per customer — calls, minutes, revenue, cost, margin
 * and unrated calls, over the last hour or by day, as charts and as a table with the
 * same numbers, the top accounts by spend and by least credit left, and a drill-down from a
 * reseller to its customers to their calls. Revenue is what each account below paid;
 * cost what the viewed account paid for the same calls (GET /usage/summary): a reseller
 * never sees what its carrier paid. The views follow usage live (`traffic` keys:
 * refetched at most once a second while calls move the balances below).
 */
export function TrafficSection({
  account,
  showExposure,
  canRerate = false,
  searchesCalls = false,
}: {
  account: { id: string; name: string };
  showExposure: boolean;
  /** `usage:create` outside a view-as: unrated calls may be rated again from here. */
  canRerate?: boolean;
  /** The calls page can take the account opened here (the viewer reads those accounts). */
  searchesCalls?: boolean;
}) {
  const [period, setPeriod] = useState<TPeriod>('hour');
  const [trail, setTrail] = useState<TLevel[]>([]);
  const root: TLevel = { id: account.id, name: account.name, kind: 'root' };
  const levels = [root, ...trail];
  const current = levels.at(-1)!;
  const parent = levels.at(-2);
  const open = (level: TLevel) => setTrail((held) => [...held, level]);
  return (
    <PanelSection
      title="Traffic"
      actions={
        current.kind === 'customer' ? null : <PeriodChoice period={period} onChange={setPeriod} />
      }
    >
      <div id="traffic" data-testid="traffic" className="space-y-4 scroll-mt-4">
        {trail.length ? (
          <nav aria-label="Traffic drill-down" className="text-sm">
            <ol className="flex flex-wrap items-center gap-1 text-slate-600">
              {levels.map((level, index) => (
                <li key={level.id} className="flex items-center gap-1">
                  {index > 0 ? <span aria-hidden="true">›</span> : null}
                  {index === levels.length - 1 ? (
                    <span aria-current="location" className="font-medium text-slate-900">
                      {index === 0 ? 'All accounts' : level.name}
                      {level.kind === 'customer' ? ': calls' : ''}
                    </span>
                  ) : (
                    <button
                      type="button"
                      className="text-brand-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
                      onClick={() => setTrail((held) => held.slice(0, index))}
                    >
                      {index === 0 ? 'All accounts' : level.name}
                    </button>
                  )}
                </li>
              ))}
            </ol>
          </nav>
        ) : null}
        {current.kind === 'customer' ? (
          <AccountCalls account={current} payerAbove={parent!.id} />
        ) : (
          <Summary
            parent={current}
            period={period}
            onOpen={open}
            showExposure={showExposure && current.kind === 'root'}
          />
        )}
        {searchesCalls && current.kind !== 'root' ? (
          <p className="text-sm">
            <PanelLink href={`/calls?account=${current.id}`} className="text-brand-700 underline">
              {current.kind === 'customer'
                ? `Search all calls of ${current.name}`
                : `Search all calls below ${current.name}`}
            </PanelLink>
          </p>
        ) : null}
        {canRerate ? (
          // Keyed by the level: a result said for one account is not left under another's.
          <RerateUnrated
            key={current.id}
            accountId={current.kind === 'root' ? undefined : current.id}
            name={current.kind === 'root' ? 'every account below you' : current.name}
          />
        ) : null}
      </div>
    </PanelSection>
  );
}

function PeriodChoice({
  period,
  onChange,
}: {
  period: TPeriod;
  onChange: (period: TPeriod) => void;
}) {
  return (
    <div
      role="group"
      aria-label="Traffic period"
      className="flex rounded-md border border-slate-300 text-sm"
    >
      {PERIODS.map(([value, label]) => (
        <button
          key={value}
          type="button"
          aria-pressed={period === value}
          onClick={() => onChange(value)}
          className={`px-3 py-1 first:rounded-l-md last:rounded-r-md focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500 ${
            period === value
              ? 'bg-brand-700 font-medium text-white'
              : 'text-slate-700 hover:bg-slate-100'
          }`}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

/** A summary below `parentId`, live: fetched once the socket has joined its rooms. */
function useTraffic(parentId: string, by: TUsageSummaryBy, period: TPeriod) {
  const joinedFetch = useJoinedFetch();
  const key = queryKeys.traffic('usage', { sub: 'summary', filter: { by, parentId, period } });
  return useQuery({
    queryKey: key,
    queryFn: async ({ signal }) => {
      // The window moves with each fetch; the key names the period, not the instant. Taken
      // when the read is asked: it waits for the join a moment at most.
      const now = serverNow();
      const from = period === 'hour' ? new Date(now - 3_600_000) : utcDayStart(now, DAYS - 1);
      const search = new URLSearchParams({ by, parentId, from: from.toISOString() });
      return joinedFetch<TUsageSummary>(`/usage/summary?${search}`, { signal });
    },
    // The window moves with the clock too, calls or none (`trafficRefreshMs`).
    refetchInterval: () => trafficRefreshMs(period, serverNow()),
  });
}

function Summary({
  parent,
  period,
  onOpen,
  showExposure,
}: {
  parent: TLevel;
  period: TPeriod;
  onOpen: (level: TLevel) => void;
  showExposure: boolean;
}) {
  const locale = useViewerLocale();
  // The charts measure their box: drawn by the browser only.
  const hydrated = useHydrated();
  const accounts = useTraffic(parent.id, 'account', period);
  const days = useTraffic(parent.id, 'day', 'days');
  const rows = accounts.data?.rows ?? [];
  const totals = totalsByCurrency(rows);
  // A chart shows one currency: the one with the most calls (others are in the table).
  const currency =
    totals[0]?.currency ?? totalsByCurrency(days.data?.rows ?? [])[0]?.currency ?? null;
  const charted = rows
    .filter((row) => row.currency === currency && row.calls > 0)
    .sort((a, b) => new Decimal(b.revenue).comparedTo(a.revenue))
    .slice(0, CHART_ACCOUNTS);
  const series = dailySeries(days.data?.rows ?? [], days.dataUpdatedAt, DAYS, currency);
  // Calls filed under the account shown itself (for no account below it, or a customer's
  // from before its transfer): in no row, so told apart — Needs attention counts them.
  const unfiled = accounts.data?.unfiled ?? 0;
  const noTraffic =
    days.isSuccess && accounts.isSuccess && !days.data.rows.length && !rows.length && !unfiled;
  const periodText = period === 'hour' ? 'the last hour' : `the last ${DAYS} days`;
  const below = parent.kind === 'root' ? 'the accounts below you' : `${parent.name}'s customers`;
  return (
    <ListState
      isLoading={accounts.isLoading || days.isLoading}
      error={accounts.error ?? days.error}
      empty={noTraffic}
      emptyText="No traffic yet: calls show here, live, as soon as the switch posts them."
    >
      <Totals totals={totals} period={periodText} />
      {unfiled ? (
        <p className="text-sm text-amber-800" data-testid="traffic-unfiled">
          {countOf(unfiled, locale)} unrated {unfiled === 1 ? 'call' : 'calls'} in {periodText} for
          no account below (an unknown account, or from before a customer’s transfer):{' '}
          <PanelLink href="/calls?status=unrated" className="underline">
            see Calls
          </PanelLink>
          .
        </p>
      ) : null}
      {!rows.length && !unfiled ? (
        <p className="text-sm text-slate-600" data-testid="traffic-none">
          No calls in {periodText}.
        </p>
      ) : null}
      {hydrated ? (
        <div className="grid gap-6 lg:grid-cols-2">
          {charted.length ? (
            <figure aria-labelledby="traffic-accounts-caption">
              <figcaption
                id="traffic-accounts-caption"
                className="mb-2 text-sm font-semibold text-slate-700"
              >
                Revenue and cost by account, {periodText}
              </figcaption>
              <div style={{ minHeight: accountsChartHeight(charted.length) }}>
                <AccountsChart
                  points={charted.map((row) => pointOf(row, row.name))}
                  currency={currency}
                  locale={locale}
                  caption={`Bar chart of revenue and cost for ${below} over ${periodText}; the table below has the same numbers.`}
                />
              </div>
            </figure>
          ) : null}
          {days.data?.rows.length ? (
            <figure aria-labelledby="traffic-days-caption">
              <figcaption
                id="traffic-days-caption"
                className="mb-2 text-sm font-semibold text-slate-700"
              >
                Revenue and cost by day (UTC), last {DAYS} days
              </figcaption>
              <div style={{ minHeight: DAYS_CHART_HEIGHT }}>
                <DaysChart
                  points={series.map((day) => ({ ...day, label: day.day }))}
                  currency={currency}
                  locale={locale}
                  caption={`Bar chart of revenue and cost per day over the last ${DAYS} days; the table below has the days with calls.`}
                />
              </div>
              <DaysTable rows={days.data.rows} />
            </figure>
          ) : null}
        </div>
      ) : null}
      {rows.length ? <AccountsTable rows={rows} periodText={periodText} onOpen={onOpen} /> : null}
      <TopAccounts rows={rows} periodText={periodText} showExposure={showExposure} />
    </ListState>
  );
}

function pointOf(row: TUsageSummaryRow, label: string): TChartPoint {
  return {
    label,
    revenue: row.revenue,
    cost: row.cost,
    margin: row.margin,
    calls: row.calls,
    seconds: row.seconds,
  };
}

/** The headline numbers, per currency (amounts in two currencies are never added). */
function Totals({
  totals,
  period,
}: {
  totals: ReturnType<typeof totalsByCurrency>;
  period: string;
}) {
  const locale = useViewerLocale();
  if (!totals.length) return null;
  return (
    <div className="space-y-2">
      {totals.map((total, index) => {
        // The first (busiest) currency's tiles are the ones tests and people look for.
        const id = (name: string) => (index === 0 ? `traffic-${name}` : undefined);
        // One precision for the three amounts, so €0.49 and €0.6371 read as €0.4900.
        const decimals = columnDecimals(
          [total.revenue, total.cost, total.margin].flatMap((amount) => amount ?? []),
          total.currency,
        );
        return (
          <div
            key={total.currency ?? 'none'}
            role="group"
            aria-label={`Totals for ${period}${total.currency ? ` in ${total.currency}` : ''}`}
          >
            <dl className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
              <Tile label="Calls" testId={id('calls')}>
                {countOf(total.calls, locale)}
              </Tile>
              <Tile label="Minutes" testId={id('minutes')}>
                {minutesOf(total.seconds, locale)}
              </Tile>
              <Tile label="Revenue" testId={id('revenue')}>
                <Money amount={total.revenue} currency={total.currency} minDecimals={decimals} />
              </Tile>
              <Tile label="Cost" testId={id('cost')}>
                <Money amount={total.cost} currency={total.currency} minDecimals={decimals} />
              </Tile>
              <Tile label="Margin" testId={id('margin')}>
                <Money amount={total.margin} currency={total.currency} minDecimals={decimals} />
              </Tile>
              <Tile label="Unrated" testId={id('unrated')}>
                {countOf(total.unrated, locale)}
              </Tile>
            </dl>
          </div>
        );
      })}
    </div>
  );
}

function Tile({
  label,
  testId,
  children,
}: {
  label: string;
  testId?: string;
  children: ReactNode;
}) {
  return (
    <div className="rounded-lg border border-slate-200 p-3">
      <dt className="text-xs uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-1 text-lg font-semibold tabular-nums text-slate-900" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

function AccountsTable({
  rows,
  periodText,
  onOpen,
}: {
  rows: TUsageSummaryRow[];
  periodText: string;
  onOpen: (level: TLevel) => void;
}) {
  const locale = useViewerLocale();
  // Each money column at one precision: its amounts line up and read alike.
  const decimals = {
    revenue: decimalsByCurrency(
      rows.map((row) => ({ amount: row.revenue, currency: row.currency })),
    ),
    cost: decimalsByCurrency(rows.map((row) => ({ amount: row.cost, currency: row.costCurrency }))),
    margin: decimalsByCurrency(rows.map((row) => ({ amount: row.margin, currency: row.currency }))),
  };
  return (
    <div className="overflow-x-auto">
      <table
        className="w-full text-sm"
        aria-label={`Traffic by account, ${periodText}`}
        data-testid="traffic-table"
      >
        <thead>
          <tr className="text-left text-slate-600">
            <th scope="col" className="py-1 pr-3 font-medium">
              Account
            </th>
            {['Calls', 'Minutes', 'Revenue', 'Cost', 'Margin', 'Unrated'].map((label) => (
              <th key={label} scope="col" className="py-1 pr-3 text-right font-medium">
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr
              key={`${row.key}-${row.currency}`}
              className="border-t border-slate-100"
              data-testid={`traffic-row-${row.key}`}
            >
              <td className="py-1 pr-3">
                {row.kind ? (
                  <button
                    type="button"
                    className="font-medium text-brand-700 underline focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
                    onClick={() => onOpen({ id: row.key, name: row.name, kind: row.kind! })}
                    aria-label={
                      row.kind === 'reseller'
                        ? `${row.name}: traffic by customer`
                        : `${row.name}: calls`
                    }
                  >
                    {row.name}
                  </button>
                ) : (
                  row.name
                )}{' '}
                <span className="text-xs text-slate-500">{row.kind}</span>
              </td>
              <td className="py-1 pr-3 text-right tabular-nums">{countOf(row.calls, locale)}</td>
              <td className="py-1 pr-3 text-right tabular-nums">
                {minutesOf(row.seconds, locale)}
              </td>
              <td className="py-1 pr-3 text-right tabular-nums" data-testid="revenue">
                <Money
                  amount={row.revenue}
                  currency={row.currency}
                  minDecimals={decimals.revenue(row.currency)}
                />
              </td>
              <td className="py-1 pr-3 text-right tabular-nums" data-testid="cost">
                <Money
                  amount={row.cost}
                  currency={row.costCurrency}
                  minDecimals={decimals.cost(row.costCurrency)}
                />
              </td>
              <td className="py-1 pr-3 text-right tabular-nums">
                <Money
                  amount={row.margin}
                  currency={row.currency}
                  minDecimals={decimals.margin(row.currency)}
                />
              </td>
              <td className="py-1 pr-3 text-right tabular-nums">{countOf(row.unrated, locale)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The days with calls, as numbers: what the day chart draws. */
function DaysTable({ rows }: { rows: TUsageSummaryRow[] }) {
  const locale = useViewerLocale();
  return (
    <details className="mt-2 text-sm">
      <summary className="cursor-pointer text-brand-700 underline">The days as a table</summary>
      <table className="mt-2 w-full" aria-label="Traffic by day">
        <thead>
          <tr className="text-left text-slate-600">
            {['Day (UTC)', 'Calls', 'Revenue', 'Cost', 'Margin'].map((label, index) => (
              <th
                key={label}
                scope="col"
                className={`py-1 pr-3 font-medium ${index ? 'text-right' : ''}`}
              >
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={`${row.key}-${row.currency}`} className="border-t border-slate-100">
              <td className="py-1 pr-3">{row.key.slice(0, 10)}</td>
              <td className="py-1 pr-3 text-right tabular-nums">{countOf(row.calls, locale)}</td>
              <td className="py-1 pr-3 text-right tabular-nums">
                <Money amount={row.revenue} currency={row.currency} />
              </td>
              <td className="py-1 pr-3 text-right tabular-nums">
                <Money amount={row.cost} currency={row.costCurrency} />
              </td>
              <td className="py-1 pr-3 text-right tabular-nums">
                <Money amount={row.margin} currency={row.currency} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** The largest spenders of the period, and (at the top level) the most exposed accounts. */
function TopAccounts({
  rows,
  periodText,
  showExposure,
}: {
  rows: TUsageSummaryRow[];
  periodText: string;
  showExposure: boolean;
}) {
  const spenders = rows
    .filter((row) => new Decimal(row.revenue).gt(0))
    .sort((a, b) => new Decimal(b.revenue).comparedTo(a.revenue))
    .slice(0, TOP);
  return (
    <div className="grid gap-6 md:grid-cols-2">
      <section aria-labelledby="top-spend-heading">
        <h3 id="top-spend-heading" className="mb-1 text-sm font-semibold text-slate-700">
          Top accounts by spend, {periodText}
        </h3>
        {spenders.length ? (
          <ol className="space-y-1 text-sm" data-testid="top-spend">
            {spenders.map((row) => (
              <li key={`${row.key}-${row.currency}`} className="flex justify-between gap-3">
                <AccountLink id={row.key} name={row.name} kind={row.kind} />
                <Money amount={row.revenue} currency={row.currency} className="tabular-nums" />
              </li>
            ))}
          </ol>
        ) : (
          <p className="text-sm text-slate-600">Nobody has spent anything in {periodText}.</p>
        )}
      </section>
      {showExposure ? <TopExposure /> : null}
    </div>
  );
}

/**
 * The accounts with the least credit left — who is about to be refused calls — from
 * GET /dashboard/exposure, live like the rest. Not "by exposure": an account without a
 * limit may owe the most and still come last here, as it is never blocked (the exposure
 * section ranks by debt).
 */
function TopExposure() {
  const key = queryKeys.anyChange('dashboard', {
    sub: 'exposure',
    filter: { sort: 'available', limit: String(TOP) },
  });
  const joinedFetch = useJoinedFetch();
  const exposure = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => joinedFetch<TPageOf<TExposureRow>>(pathOf(key), { signal }),
  });
  const rows = exposure.data?.items ?? [];
  return (
    <section aria-labelledby="top-exposure-heading">
      <h3 id="top-exposure-heading" className="mb-1 text-sm font-semibold text-slate-700">
        Least credit left
      </h3>
      <p className="mb-1 text-xs text-slate-600">
        Who runs out first; the largest debts are under Credit exposure.
      </p>
      {rows.length ? (
        <ol className="space-y-1 text-sm" data-testid="top-exposure">
          {rows.map((row) => (
            <li key={row.id} className="flex justify-between gap-3">
              <span>
                <AccountLink id={row.id} name={row.name} kind={row.kind} />
                {row.creditBlock ? (
                  <span className="ml-2 text-xs font-medium text-red-700">
                    {row.creditBlock === 'own' ? 'Blocked' : 'Blocked above'}
                  </span>
                ) : null}
              </span>
              <span className="tabular-nums">
                {row.creditLimit === null ? (
                  <span className="text-xs text-slate-500">no limit</span>
                ) : (
                  <>
                    <Money amount={row.available} currency={row.currency} />{' '}
                    <span className="text-xs text-slate-500">available</span>
                  </>
                )}
              </span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="text-sm text-slate-600">
          {exposure.isLoading ? 'Loading…' : 'No account below.'}
        </p>
      )}
    </section>
  );
}

function AccountLink({ id, name, kind }: { id: string; name: string; kind: string | null }) {
  return kind ? (
    <PanelLink href={`/${kind}s/${id}`} className="font-medium text-brand-700 underline">
      {name}
    </PanelLink>
  ) : (
    <span>{name}</span>
  );
}

/**
 * Unrated calls rated again (POST /usage/rerate, `all` below the level shown): once a
 * card has its missing route or a blocked customer is paid, what the switch posted
 * meanwhile is charged. Asked first (it moves balances along each chain); each attempt
 * has a key of its own — a second click after a lost answer cannot charge a call twice,
 * since a call rated by the first is no longer unrated.
 */
function RerateUnrated({ accountId, name }: { accountId?: string; name: string }) {
  const { confirm, dialog } = useConfirm();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ text: string; failed: boolean } | null>(null);
  const rerate = async () => {
    const confirmed = await confirm({
      title: `Rate the unrated calls of ${name} again?`,
      consequence:
        'Each call that can be priced now (its route added, its card given, its account paid) is charged — at the rates of its start, or at today’s when those could not price it — and moves the balances along its chain; the others stay unrated with their reason, and calls made while an account was suspended stay so for good.',
      confirmLabel: 'Re-rate',
    });
    if (!confirmed) return;
    setBusy(true);
    setOutcome(null);
    try {
      const result = await apiFetch<TUsageRerated>('/usage/rerate', {
        method: 'POST',
        body: {
          all: true,
          ...(accountId ? { accountId } : {}),
          idempotencyKey: crypto.randomUUID(),
        },
      });
      setOutcome({ text: rerateSentence(result), failed: false });
    } catch (error) {
      setOutcome({ text: `Nothing was rated: ${(error as Error).message}`, failed: true });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="flex flex-wrap items-center gap-3 border-t border-slate-100 pt-3 text-sm">
      <span className="text-slate-600">Unrated calls move no balance until they are rated.</span>
      <button
        type="button"
        className="text-brand-700 underline disabled:opacity-60"
        disabled={busy}
        onClick={() => void rerate()}
      >
        {busy ? 'Re-rating…' : 'Re-rate unrated calls'}
      </button>
      {outcome ? (
        <p role="status" className={outcome.failed ? 'text-red-700' : 'text-slate-800'}>
          {outcome.text}
        </p>
      ) : null}
      {dialog}
    </div>
  );
}

/**
 * One customer's calls (GET /usage?accountId=), newest first, live: its price (the level
 * the customer paid) and the cost above it (the level the account above paid), each as
 * far as the viewer may see.
 */
/**
 * One account's calls, newest first, live. `payerAbove` adds what the viewer paid for
 * the same calls (its cost); without it — the customer's own people looking at their
 * calls (issue 19) — only the price the account paid is shown, as they see nothing else.
 */
export function AccountCalls({
  account,
  payerAbove,
}: {
  account: Pick<TLevel, 'id' | 'name'>;
  payerAbove?: string;
}) {
  const joinedFetch = useJoinedFetch();
  // Drilled down from the account above: only the calls billed through it (a customer
  // moved away since has later calls under its new parent, not this one's to list).
  const key = queryKeys.traffic('usage', {
    filter: { accountId: account.id, ...(payerAbove ? { under: payerAbove } : {}) },
  });
  const calls = useInfiniteQuery({
    queryKey: key,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      joinedFetch<TPageOf<TUsageRecordDto>>(
        pathOf(key, { limit: '50', ...(pageParam ? { cursor: pageParam } : {}) }),
        { signal },
      ),
    getNextPageParam: (page) => page.nextCursor,
  });
  const rows = calls.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <ListState
      isLoading={calls.isLoading}
      error={calls.error}
      empty={calls.isSuccess && !rows.length}
      emptyText={`${account.name} has made no calls yet.`}
    >
      <div className="overflow-x-auto">
        <table
          className="w-full text-sm"
          aria-label={`Calls of ${account.name}`}
          data-testid="traffic-call-list"
        >
          <thead>
            <tr className="text-left text-slate-600">
              {[
                'Started',
                'Number',
                'Destination',
                'Seconds',
                'Status',
                'Price',
                ...(payerAbove ? ['Cost'] : []),
              ].map((label, index) => (
                <th
                  key={label}
                  scope="col"
                  className={`py-1 pr-3 font-medium ${index === 3 || index > 4 ? 'text-right' : ''}`}
                >
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((call) => {
              const price = call.levels.find((level) => level.payerId === account.id);
              const cost = payerAbove
                ? call.levels.find((level) => level.payerId === payerAbove)
                : undefined;
              return (
                <tr key={call.id} className="border-t border-slate-100">
                  <td className="py-1 pr-3">
                    <RelativeTime at={call.startedAt} />
                  </td>
                  <td className="py-1 pr-3 tabular-nums">{call.number}</td>
                  <td className="py-1 pr-3">{price?.destination ?? '—'}</td>
                  <td className="py-1 pr-3 text-right tabular-nums">{call.seconds}</td>
                  <td className="py-1 pr-3">
                    {call.status === 'rated' ? (
                      'rated'
                    ) : (
                      <span className="text-amber-700">
                        unrated: {UNRATED_REASON_TEXT[call.reason ?? ''] ?? call.reason}
                      </span>
                    )}
                  </td>
                  <td className="py-1 pr-3 text-right tabular-nums">
                    <Money amount={price?.amount} currency={price?.currency} />
                  </td>
                  {payerAbove ? (
                    <td className="py-1 pr-3 text-right tabular-nums">
                      <Money amount={cost?.amount} currency={cost?.currency} />
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <LoadMore list={calls} />
    </ListState>
  );
}
