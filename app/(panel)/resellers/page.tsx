import type { Metadata } from 'next';
import { AccountsPanel } from '@/components/accounts/accounts-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { listAddress, renderKey } from '@/lib/server/pages/address-filters';
import { ACCOUNT_SORT_KEYS } from '@/lib/shared/schemas/accounts';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Resellers' };

/** The list in scope; the address keeps its search and sort (`?q=…&sort=…`). */
export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const actor = await requirePageActor();
  const can = uiAbilities(actor);
  return (
    <>
      <PageHeading>Resellers</PageHeading>
      <AccountsPanel
        // Its search and sort start again when a render asks for another address.
        rendered={renderKey()}
        initial={listAddress(await searchParams, ACCOUNT_SORT_KEYS)}
        kind="resellers"
        can={can.resellers}
        own={{ id: actor.account.id, name: actor.account.name }}
        canAssign={can.cards.assign}
        pickParent={can.sections.resellers}
      />
    </>
  );
}
