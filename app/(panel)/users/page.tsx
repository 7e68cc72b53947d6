import type { Metadata } from 'next';
import { UsersPanel } from '@/components/users/users-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';
import { ZId } from '@/lib/shared/schemas/common';

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
        // A new address (the nav's Users link after a group's members) starts afresh:
        // Next keeps a page's state when only its search changes.
        key={groupId}
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
