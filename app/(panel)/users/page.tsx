import type { Metadata } from 'next';
import { UsersPanel } from '@/components/users/users-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Users' };

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <>
      <PageHeading>Users</PageHeading>
      <UsersPanel
        own={{ id: actor.account.id, name: actor.account.name }}
        can={uiAbilities(actor).users}
        canReadGroups={uiAbilities(actor).sections.groups}
        accountsFrom={{
          resellers: uiAbilities(actor).sections.resellers,
          customers: uiAbilities(actor).sections.customers,
        }}
      />
    </>
  );
}
