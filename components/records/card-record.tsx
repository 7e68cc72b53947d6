'use client';

import { useRouter } from 'next/navigation';
import { useLiveRecord } from '@/lib/client/use-resource';
import type { TCardDto } from '@/lib/shared/schemas/cards';
import type { TCardAbilities } from '@/lib/shared/ui-abilities';
import { CardDetail } from '@/components/cards/card-detail';
import { RecordTitle } from './record-parts';

/**
 * A card's page: the live card and everything the cards page showed in-page for it —
 * rates, import and export, derive, assignments, the margin report — as the viewer's
 * relation to the card allows (components/cards/card-detail.tsx).
 */
export function CardRecord({
  initial,
  accountId,
  can,
}: {
  initial: TCardDto;
  accountId: string;
  can: TCardAbilities;
}) {
  const router = useRouter();
  const record = useLiveRecord<TCardDto>('cards', initial);
  const card = record.data;
  const kind =
    card.relation === 'assigned'
      ? 'Provider card · assigned to you'
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
        gone={Boolean(record.error)}
      />
      <CardDetail
        card={card}
        accountId={accountId}
        can={can}
        onClose={() => router.push('/cards')}
      />
    </div>
  );
}
