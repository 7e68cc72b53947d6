'use client';

import { PanelLink } from '@/components/ui/panel-link';
import { useId, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { pathOf, queryKeys } from '@/lib/client/query-keys';
import { useMe } from '@/lib/client/use-me';
import { useJoinedFetch, usePagedList } from '@/lib/client/use-resource';
import type { TDashboardAttention, TDashboardCounts } from '@/lib/shared/schemas/dashboard';
import type { TMeDto } from '@/lib/shared/schemas/me';
import type { TCardDto } from '@/lib/shared/schemas/cards';
import type { TUiAbilities } from '@/lib/shared/ui-abilities';
import { PanelSection } from '@/components/ui/panel-section';
import { LoadMore } from '@/components/ui/field';
import { AuditTable } from '@/components/audit/audit-panel';
import { ExposureSection } from './exposure-section';
import { TrafficSection } from './traffic-section';
import { StatementsSection } from '@/components/records/statements-section';
import { OwnAccountSection, OwnCreditAlert, useOwnBalance } from './own-account-section';
import { DateTime } from '@/components/ui/date-time';
import { Money } from '@/components/ui/money';
import { UNRATED_REASON_TEXT } from '@/lib/shared/traffic';

const DASHBOARD_KEY = queryKeys.anyChange('dashboard');
const ATTENTION_KEY = queryKeys.anyChange('dashboard', { sub: 'attention' });

const TILES: [keyof TDashboardCounts, string, string][] = [
  ['resellers', 'Resellers', '/resellers'],
  ['customers', 'Customers', '/customers'],
  ['cards', 'Rate cards', '/cards'],
  ['users', 'Users', '/users'],
];

/**
 * The overview, live for the person: who they are here (their account follows a rename
 * at once), what needs attention first (losing cards, suspended accounts, accounts out
 * of credit, scheduled rate changes), counters that open their lists, the cards assigned to their account, and
 * the latest activity — or, for a new reseller with nothing assigned yet, its next steps.
 */
export function DashboardPanel({ me, can }: { me: TMeDto; can: TUiAbilities }) {
  const live = useMe(me);
  const joinedFetch = useJoinedFetch();
  const counts = useQuery({
    queryKey: DASHBOARD_KEY,
    queryFn: ({ signal }) => joinedFetch<TDashboardCounts>(pathOf(DASHBOARD_KEY), { signal }),
  });
  const attention = useQuery({
    queryKey: ATTENTION_KEY,
    queryFn: ({ signal }) => joinedFetch<TDashboardAttention>(pathOf(ATTENTION_KEY), { signal }),
  });
  // One's own account with the side above (a carrier has none).
  const ownBalance = can.ledger.read && live.account.kind !== 'carrier';
  const ownBlocked = Boolean(useOwnBalance(live.account.id, ownBalance).data?.creditBlock);
  const isNewReseller =
    live.account.kind === 'reseller' &&
    counts.data !== undefined &&
    !counts.data.cards &&
    !counts.data.customers &&
    !counts.data.resellers;
  return (
    <div className="space-y-6">
      <p className="text-sm text-slate-600" data-testid="overview-identity">
        You are signed in to <span className="font-medium">{live.account.name}</span> with the group{' '}
        <span className="font-medium">{live.group.name}</span>.{' '}
        <PanelLink href={`/users/${live.user.id}?tab=access`} className="text-brand-700 underline">
          Your permissions
        </PanelLink>
      </p>
      {ownBalance ? <OwnCreditAlert account={live.account} /> : null}
      {attention.data ? (
        <Attention attention={attention.data} can={can} ownBlocked={ownBlocked} />
      ) : attention.isError ? (
        <ReadFailed what="What needs attention" onRetry={() => void attention.refetch()} />
      ) : null}
      {isNewReseller ? <NextSteps can={can} /> : null}
      {counts.isError ? (
        <ReadFailed what="The counters" onRetry={() => void counts.refetch()} />
      ) : null}
      <ul className="grid grid-cols-2 gap-4 md:grid-cols-4" aria-label="Counters">
        {/* The server's counts say which lists the viewer reads; until they come, its
            sections do (a tile for a list it may not read would open a refusal). */}
        {TILES.filter(([key]) => (counts.data ? counts.data[key] !== null : can.sections[key])).map(
          ([key, label, href]) => (
            <li key={key}>
              <PanelLink
                href={href}
                className="block rounded-lg border border-slate-200 bg-white p-4 hover:border-brand-500 focus:outline-none focus-visible:ring-2 focus-visible:ring-brand-500"
              >
                <span className="block text-xs uppercase tracking-wide text-slate-500">
                  {label}
                </span>
                <span
                  className="mt-1 block text-2xl font-semibold text-slate-900"
                  data-testid={`count-${key}`}
                >
                  {counts.data ? counts.data[key] : counts.isError ? '—' : '…'}
                </span>
              </PanelLink>
            </li>
          ),
        )}
      </ul>
      {can.sections.cards && live.account.kind !== 'carrier' ? (
        <AssignedCards title={live.account.kind === 'customer' ? 'Your rate card' : undefined} />
      ) : null}
      {ownBalance ? (
        <OwnAccountSection
          account={live.account}
          showCalls={can.usage.read && live.account.kind === 'customer'}
        />
      ) : null}
      {can.usage.read && live.account.kind !== 'customer' ? (
        <TrafficSection
          account={live.account}
          showExposure={can.ledger.read}
          canRerate={can.usage.rerate}
          searchesCalls={can.sections.resellers || can.sections.customers}
        />
      ) : null}
      {can.ledger.read && live.account.kind !== 'customer' ? <ExposureSection /> : null}
      {/* One's own statements, issued by the side above (a carrier has none). */}
      {can.statements.read && live.account.kind !== 'carrier' ? (
        <StatementsSection account={live.account} canIssue={false} />
      ) : null}
      {can.dashboard.activity ? (
        <PanelSection title="Recent activity">
          <AuditTable label="Recent activity" limit={15} />
        </PanelSection>
      ) : null}
    </div>
  );
}

/**
 * What needs the viewer first; says so plainly when nothing does, naming only what was
 * looked at (a check its group does not grant, or that cannot apply to its account, is
 * null); nothing at all when no check applies (a customer's overview).
 */
function Attention({
  attention,
  can,
  ownBlocked,
}: {
  attention: TDashboardAttention;
  can: TUiAbilities;
  /** The viewer's own account is refused calls for credit (said above it). */
  ownBlocked: boolean;
}) {
  const { losingCards, suspended, creditBlocked, scheduled, unrated } = attention;
  const checked = [
    losingCards ? 'no card loses money' : null,
    suspended ? 'no account below yours is suspended' : null,
    creditBlocked ? 'none is out of credit' : null,
    scheduled ? 'no rate change is scheduled' : null,
    unrated ? 'no call is left unrated' : null,
  ].filter((part) => part !== null);
  if (!checked.length) return null;
  const nothing =
    !losingCards?.total &&
    !suspended?.total &&
    !creditBlocked?.total &&
    !scheduled?.total &&
    !unrated?.total;
  // The account list the rest of an account card's entries are most likely in, and one
  // the viewer reads.
  const accountsHref = (items: { kind: 'reseller' | 'customer' }[]) =>
    can.sections.resellers && (!can.sections.customers || items.some((a) => a.kind === 'reseller'))
      ? '/resellers'
      : '/customers';
  return (
    <section aria-labelledby="attention-heading" data-testid="attention">
      <h2 id="attention-heading" className="mb-2 text-sm font-semibold text-slate-700">
        Needs attention
      </h2>
      {nothing ? (
        <p className="rounded-lg border border-slate-200 bg-white p-4 text-sm text-slate-600">
          Nothing {ownBlocked ? 'else ' : ''}needs attention: {checked.join(', ')}.
        </p>
      ) : (
        <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-4">
          {losingCards?.total ? (
            <AttentionCard
              tone="danger"
              title={`${losingCards.total} card${losingCards.total === 1 ? '' : 's'} losing money`}
              items={losingCards.items.map((card) => ({
                key: card.id,
                href: `/cards/${card.id}`,
                label: card.name,
                note: `${card.losingRates} losing row${card.losingRates === 1 ? '' : 's'}`,
              }))}
              more={losingCards.total - losingCards.items.length}
              moreHref="/cards"
            />
          ) : null}
          {suspended?.total ? (
            <AttentionCard
              tone="warn"
              title={`${suspended.total} suspended account${suspended.total === 1 ? '' : 's'}`}
              items={suspended.items.map((account) => ({
                key: account.id,
                href: `/${account.kind}s/${account.id}`,
                label: account.name,
                note: account.kind,
              }))}
              more={suspended.total - suspended.items.length}
              moreHref={accountsHref(suspended.items)}
            />
          ) : null}
          {creditBlocked?.total ? (
            <AttentionCard
              tone="danger"
              title={`${creditBlocked.total} account${creditBlocked.total === 1 ? '' : 's'} out of credit`}
              items={creditBlocked.items.map((account) => ({
                key: account.id,
                // Where its payment is recorded.
                href: `/${account.kind}s/${account.id}?tab=balance`,
                label: account.name,
                note: <Money amount={account.balance} currency={account.currency} />,
              }))}
              more={creditBlocked.total - creditBlocked.items.length}
              moreHref={accountsHref(creditBlocked.items)}
            />
          ) : null}
          {scheduled?.total ? (
            <AttentionCard
              tone="info"
              title={`${scheduled.total} card${scheduled.total === 1 ? '' : 's'} with scheduled rates`}
              items={scheduled.items.map((card) => ({
                key: card.cardId,
                href: `/cards/${card.cardId}`,
                label: card.name,
                note: (
                  <>
                    {card.rows} row{card.rows === 1 ? '' : 's'} from{' '}
                    <DateTime at={card.next} show="date" />
                  </>
                ),
              }))}
              more={scheduled.total - scheduled.items.length}
              moreHref="/cards"
            />
          ) : null}
          {unrated?.total ? (
            <AttentionCard
              tone="warn"
              title={`${unrated.total} unrated call${unrated.total === 1 ? '' : 's'}, charged to no one`}
              // Why, as its reasons: each call is listed, and re-rated, under Traffic.
              items={unrated.items.map((group) => ({
                key: group.reason,
                label: UNRATED_REASON_TEXT[group.reason] ?? group.reason,
                note: `${group.calls} call${group.calls === 1 ? '' : 's'}`,
                href: `/calls?status=unrated&reason=${group.reason}`,
              }))}
              more={0}
              moreHref="/calls?status=unrated"
              footer={
                <p className="mt-2 text-sm">
                  <PanelLink href="/calls?status=unrated" className="underline">
                    List them
                  </PanelLink>
                  {can.usage.rerate ? (
                    <>
                      {' · '}
                      <a href="#traffic" className="underline">
                        Re-rate them under Traffic
                      </a>
                    </>
                  ) : null}
                </p>
              }
            />
          ) : null}
        </div>
      )}
    </section>
  );
}

const TONES = {
  danger: 'border-red-200 bg-red-50 text-red-900',
  warn: 'border-amber-200 bg-amber-50 text-amber-900',
  info: 'border-sky-200 bg-sky-50 text-sky-900',
};

function AttentionCard({
  tone,
  title,
  items,
  more,
  moreHref,
  footer,
}: {
  tone: keyof typeof TONES;
  title: string;
  /** An item without `href` is a plain line (a reason, not a record). */
  items: { key: string; href?: string; label: string; note: ReactNode }[];
  more: number;
  moreHref: string;
  footer?: ReactNode;
}) {
  const headingId = useId();
  return (
    // A region named by its title: what a screen reader's landmarks list, and tests find.
    <section aria-labelledby={headingId} className={`rounded-lg border p-4 ${TONES[tone]}`}>
      <h3 id={headingId} className="text-sm font-semibold">
        {title}
      </h3>
      <ul className="mt-2 space-y-1 text-sm">
        {items.map((item) => (
          <li key={item.key} className="flex justify-between gap-3">
            {item.href ? (
              <PanelLink href={item.href} className="font-medium underline">
                {item.label}
              </PanelLink>
            ) : (
              <span className="font-medium">{item.label}</span>
            )}
            <span className="text-right opacity-80">{item.note}</span>
          </li>
        ))}
      </ul>
      {more > 0 ? (
        <PanelLink href={moreHref} className="mt-2 inline-block text-sm underline">
          and {more} more
        </PanelLink>
      ) : null}
      {footer}
    </section>
  );
}

/**
 * The cards assigned to the viewer's account (a reseller's provider cards; a customer's
 * one rate card, its sell prices), live as they arrive.
 */
function AssignedCards({ title }: { title?: string }) {
  // Asked of the server: every assigned card, not those among a first page of all cards.
  const cards = usePagedList<TCardDto>(queryKeys.list('cards', { relation: 'assigned' }));
  const assigned = cards.data ?? [];
  if (cards.isLoading || !assigned.length) return null;
  return (
    <PanelSection title={title ?? `Cards assigned to you (${assigned.total ?? assigned.length})`}>
      <ul className="flex flex-wrap gap-2" data-testid="assigned-cards">
        {assigned.map((card) => (
          <li key={card.id}>
            <PanelLink
              href={`/cards/${card.id}`}
              className="inline-block rounded-md border border-slate-200 px-3 py-1.5 text-sm font-medium text-brand-700 hover:border-brand-500"
            >
              {card.name} <span className="text-slate-500">({card.currency})</span>
            </PanelLink>
          </li>
        ))}
      </ul>
      <LoadMore list={cards} />
    </PanelSection>
  );
}

/** A new reseller with nothing assigned yet: what to do first, as its grants allow. */
function NextSteps({ can }: { can: TUiAbilities }) {
  const steps: { text: string; href?: string }[] = [
    {
      text: 'Your carrier assigns you a rate card: it becomes your provider card (your buy price).',
    },
    ...(can.cards.create
      ? [{ text: 'Derive your customer card from it, with your markup.', href: '/cards' }]
      : []),
    ...(can.customers.create ? [{ text: 'Add your first customer.', href: '/customers' }] : []),
    ...(can.users.create ? [{ text: 'Invite your colleagues as users.', href: '/users' }] : []),
  ];
  return (
    <section
      aria-labelledby="next-steps-heading"
      className="rounded-lg border border-dashed border-brand-500 bg-white p-4"
      data-testid="next-steps"
    >
      <h2 id="next-steps-heading" className="text-sm font-semibold text-slate-800">
        Getting started
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        Nothing is assigned to your account yet. Your next steps:
      </p>
      <ol className="mt-2 list-decimal space-y-1 pl-5 text-sm text-slate-800">
        {steps.map((step) => (
          <li key={step.text}>
            {step.href ? (
              <PanelLink href={step.href} className="text-brand-700 underline">
                {step.text}
              </PanelLink>
            ) : (
              step.text
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** A part of the overview that could not be read: said, with a way to try again. */
function ReadFailed({ what, onRetry }: { what: string; onRetry: () => void }) {
  return (
    <div role="alert" className="flex flex-wrap items-center gap-3 text-sm text-red-700">
      <span>{what} could not be read.</span>
      <button
        type="button"
        className="rounded-md border border-red-300 px-3 py-1 font-medium text-red-800 hover:bg-red-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-red-600"
        onClick={onRetry}
      >
        Retry
      </button>
    </div>
  );
}
