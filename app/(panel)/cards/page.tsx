import type { Metadata } from 'next';
import { CardsPanel } from '@/components/cards/cards-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { renderKey } from '@/lib/server/pages/address-filters';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Rate cards' };

/** The cards in scope; its panel keeps the search and sort in the address (`?q=…&sort=…`). */
export default async function Page() {
  const actor = await requirePageActor();
  const abilities = uiAbilities(actor);
  return (
    <>
      <PageHeading>
        {actor.account.kind === 'customer' ? 'Your rate card' : 'Rate cards'}
      </PageHeading>
      <CardsPanel
        // Its search and sort start again when a render asks for another address.
        rendered={renderKey()}
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
