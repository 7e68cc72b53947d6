'use client';

import type { ReactNode } from 'react';
import { useRouter } from 'next/navigation';
import { useLiveRecord } from '@/lib/client/use-resource';
import { PanelSection } from '@/components/ui/panel-section';
import { DeleteRecord } from './delete-record';
import type { TCardDto } from '@/lib/shared/schemas/cards';
import type { TCardAbilities } from '@/lib/shared/ui-abilities';
import { CardDetail } from '@/components/cards/card-detail';
import { CardRevisions } from '@/components/cards/card-revisions';
import { RecordTitle } from './record-parts';

/**
 * A card's page: the live card and everything the cards page showed in-page for it —
 * rates, import and export, derive, assignments, the margin report — as the viewer's
 * relation to the card allows (components/cards/card-detail.tsx); its revisions on their
 * own tab.
 */
export function CardRecord({
  initial,
  accountId,
  customerView = false,
  can,
  tab = 'overview',
  tabs,
}: {
  initial: TCardDto;
  accountId: string;
  /** A customer's people: the card they are charged by, not one they buy to resell. */
  customerView?: boolean;
  can: TCardAbilities;
  /** The section in the URL (`?tab=revisions`), and its links, rendered by the page. */
  tab?: string;
  tabs?: ReactNode;
}) {
  const router = useRouter();
  const record = useLiveRecord<TCardDto>('cards', initial);
  const card = record.data;
  const kind =
    card.relation === 'assigned'
      ? customerView
        ? 'Your rate card'
        : 'Provider card · assigned to you'
      : `${card.kind === 'customer' ? 'Customer' : 'Provider'} card · ${card.currency}`;
  return (
    <div className="space-y-4">
      <RecordTitle
        titleKind="Card"
        kind={kind}
        name={card.name}
        status={
          card.relation === 'owner' && card.losingRates > 0
            ? `${card.losingRates} losing`
            : undefined
        }
        topic={`cards:${card.id}`}
        gone={record.gone}
      />
      {tabs}
      {tab === 'revisions' ? (
        <CardRevisions card={card} can={can} />
      ) : (
        <CardDetail
          card={card}
          accountId={accountId}
          customerView={customerView}
          can={can}
          onClose={() => router.push('/cards')}
        />
      )}
      {tab !== 'revisions' && card.relation === 'owner' && can.delete ? (
        <PanelSection title="Delete card">
          <DeleteRecord
            label="Delete card"
            name={card.name}
            path={`/cards/${card.id}`}
            consequence={`${card.name} and its rates are removed for good. Only a card nothing depends on can go: no card derived from it, no account it is assigned to.`}
            then="/cards"
          />
        </PanelSection>
      ) : null}
    </div>
  );
}
