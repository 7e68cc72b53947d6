import type { Metadata } from 'next';
import { CardsPanel } from '@/components/cards/cards-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Rate cards' };

export default async function Page() {
  const actor = await requirePageActor();
  const abilities = uiAbilities(actor);
  return (
    <>
      <PageHeading>
        {actor.account.kind === 'customer' ? 'Your rate card' : 'Rate cards'}
      </PageHeading>
      <CardsPanel
        accountId={actor.account.id}
        can={abilities.cards}
        readsAccounts={{
          resellers: abilities.sections.resellers,
          customers: abilities.sections.customers,
        }}
        customerView={actor.account.kind === 'customer'}
      />
    </>
  );
}
