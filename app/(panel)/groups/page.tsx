import { GroupsPanel } from '@/components/panel/groups-panel';
import { requirePageActor } from '@/lib/server/auth/page-session';

export const dynamic = 'force-dynamic';

export default async function Page() {
  const actor = await requirePageActor();
  return (
    <GroupsPanel
      grants={actor.grants}
      canCreate={actor.grants.includes('groups:create') && !actor.impersonation}
    />
  );
}
