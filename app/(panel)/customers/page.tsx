import type { Metadata } from 'next';
import { AccountsPanel } from '@/components/accounts/accounts-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { renderKey } from '@/lib/server/pages/address-filters';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Customers' };

/** The list in scope; its panel keeps the search and sort in the address (`?q=…&sort=…`). */
export default async function Page() {
  const actor = await requirePageActor();
  return (
    <>
      <PageHeading>Customers</PageHeading>
      <AccountsPanel
        // Its search and sort start again when a render asks for another address.
        rendered={renderKey()}
        kind="customers"
        can={uiAbilities(actor).customers}
        own={{ id: actor.account.id, name: actor.account.name }}
        canAssign={uiAbilities(actor).cards.assign}
        pickParent={uiAbilities(actor).sections.resellers}
      />
    </>
  );
}
