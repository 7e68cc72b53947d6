import { GroupsPanel } from '@/components/groups/groups-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';
import { uiAbilities } from '@/lib/shared/ui-abilities';

export const dynamic = 'force-dynamic';

export default async function Page({ searchParams }: { searchParams: Promise<{ user?: string }> }) {
  const actor = await requirePageActor();
  const { user } = await searchParams;
  return (
    <GroupsPanel
      held={actor.grants}
      can={uiAbilities(actor).groups}
      explainUserId={typeof user === 'string' ? user : undefined}
    />
  );
}
