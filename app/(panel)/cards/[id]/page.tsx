import type { Metadata } from 'next';
import { cache } from 'react';
import { readPageRecord } from '@/lib/server/auth/page-record';
import { assertCan } from '@/lib/server/authz/can';
import { findVisibleCard, toCardDto } from '@/lib/server/services/cards/card-store';
import { accountTrail } from '@/lib/server/services/accounts/account-trail';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { Breadcrumbs, trailCrumbs } from '@/components/records/breadcrumbs';
import { CardRecord } from '@/components/records/card-record';
import { pickTab, RecordTabs, type TRecordTab } from '@/components/records/record-tabs';

export const dynamic = 'force-dynamic';
/** The page's read, once per request: the title (generateMetadata) and the page share it. */
const load = cache((id: string) =>
  readPageRecord(id, async (em, actor, id) => {
    assertCan(actor, 'cards:read');
    const { card, relation } = await findVisibleCard(em, actor, id);
    const dto = toCardDto(card, relation);
    // The owner's place in the tree, for the owner's side; an assignee sees only the card.
    const ownerId = card.owner.id;
    const trail =
      relation === 'owner' && ownerId !== actor.account.id
        ? await accountTrail(em, actor, ownerId)
        : [];
    return { card: dto, trail };
  }),
);

/** The tab names the record ("Carrier Retail · Card · Reseller Panel"); the page keeps it live. */
export async function generateMetadata({
  params,
}: {
  params: Promise<{ id: string }>;
}): Promise<Metadata> {
  const { record } = await load((await params).id);
  return { title: `${record.card.name} · Card` };
}

/**
 * `/cards/{id}`: a card the viewer owns (or an account below it does) or holds by
 * assignment, or the panel's 404.
 */
export default async function CardPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ tab?: string | string[] }>;
}) {
  const { id } = await params;
  const { actor, record } = await load(id);
  const can = uiAbilities(actor).cards;
  const tabs: TRecordTab[] = [
    { id: 'overview', label: 'Card' },
    ...(can.readRates ? [{ id: 'revisions', label: 'Revisions' }] : []),
  ];
  const tab = pickTab(tabs, (await searchParams).tab);
  return (
    <div className="space-y-4">
      <Breadcrumbs
        items={[
          ...trailCrumbs(actor.account, record.trail),
          { label: 'Cards', href: '/cards' },
          { label: record.card.name, live: { resource: 'cards', id: record.card.id } },
        ]}
      />
      <CardRecord
        initial={record.card}
        accountId={actor.account.id}
        customerView={actor.account.kind === 'customer'}
        can={can}
        tab={tab}
        tabs={
          <RecordTabs
            base={`/cards/${record.card.id}`}
            tabs={tabs}
            current={tab}
            label="Card sections"
          />
        }
      />
    </div>
  );
}
