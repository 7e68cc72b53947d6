import type { Metadata } from 'next';
import { GroupsPanel } from '@/components/groups/groups-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';
import { PageHeading } from '@/components/shell/page-heading';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Groups' };

export default async function Page({ searchParams }: { searchParams: Promise<{ user?: string }> }) {
  const actor = await requirePageActor();
  const { user } = await searchParams;
  return (
    <>
      <PageHeading>Groups</PageHeading>
      <GroupsPanel
        held={actor.grants}
        can={uiAbilities(actor).groups}
        readsUsers={uiAbilities(actor).sections.users}
        explainUserId={typeof user === 'string' ? user : undefined}
      />
    </>
  );
}
