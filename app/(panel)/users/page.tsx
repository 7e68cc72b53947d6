import type { Metadata } from 'next';
import { UsersPanel } from '@/components/users/users-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { ZId } from '@/lib/shared/schemas/common';
import { renderKey } from '@/lib/server/pages/address-filters';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Users' };

/** `/users[?group=…]`: the users in scope, or one group's members among them. */
export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const actor = await requirePageActor();
  const { group } = await searchParams;
  // An id, or no filter: anything else in the address is ignored, not an error.
  const parsed = ZId.safeParse(group);
  const groupId = parsed.success ? parsed.data : '';
  return (
    <>
      <PageHeading>Users</PageHeading>
      <UsersPanel
        // Its filters start again when a render asks for another address (`renderKey`).
        rendered={renderKey()}
        own={{ id: actor.account.id, name: actor.account.name }}
        can={uiAbilities(actor).users}
        canReadGroups={uiAbilities(actor).sections.groups}
        initialGroupId={groupId}
        accountsFrom={{
          resellers: uiAbilities(actor).sections.resellers,
          customers: uiAbilities(actor).sections.customers,
        }}
      />
    </>
  );
}
